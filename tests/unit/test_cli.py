"""utils.infra.cli: one-line errors with exit code 2 for usage errors, 1 for anything else, tracebacks only with --debug,
no abbreviated options, argument types that reject what they cannot represent."""

from __future__ import annotations

import argparse

import pytest

from utils.infra import cli
from utils.config import REPO_ROOT, ProfileError
from utils.results import ResultsError


def _parser() -> cli.Parser:
    ap = cli.Parser(prog="prog")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--n", type=cli.whole_number(1), default=1)
    ap.add_argument("--t", type=cli.finite_float(above=0.0), default=1.0)
    ap.add_argument("--p", type=cli.finite_float(minimum=0.0, maximum=1.0), default=0.5)
    return ap


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "0"], "argument --n: must be >= 1, got 0"),
        (["--n", "2.7"], "argument --n: must be a whole number, got '2.7'"),
        (["--t", "nan"], "argument --t: must be a finite number, got 'nan'"),
        (["--t", "-1"], "argument --t: must be > 0.0, got -1"),
        (["--p", "1.5"], "argument --p: must be <= 1.0, got 1.5"),
        (["--forc"], "unrecognized arguments: --forc"),  # no abbreviations: --forc is not --force
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_parse_errors_are_one_line_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        _parser().parse_args(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("prog: error: ") and message in err


def test_subcommand_parsers_share_the_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    ap = cli.Parser(prog="prog")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("go").add_argument("--n", type=cli.whole_number(1))
    for argv in ([], ["go", "--n", "-1"], ["fly"]):
        with pytest.raises(SystemExit) as e:
            ap.parse_args(argv)
        assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (cli.UsageError("bad --n"), 2, "prog: error: bad --n\n"),
        (ProfileError("'x' is not a run profile"), 2, "prog: error: 'x' is not a run profile\n"),
        (ResultsError(f"{REPO_ROOT}/data/x.json is truncated"), 2, "prog: error: data/x.json is truncated\n"),
        (cli.UsageError("--only a\nb: no such notebook"), 2, "prog: error: --only a\\nb: no such notebook\n"),
        (RuntimeError("boom\n  details"), 1, "prog: error: RuntimeError: boom (rerun with --debug for the traceback)\n"),
        (FileExistsError("data/x is a committed artifact"), 2, "prog: error: data/x is a committed artifact\n"),
        (RuntimeError("boom"), 1, "prog: error: RuntimeError: boom (rerun with --debug for the traceback)\n"),
        (KeyboardInterrupt(), 130, "prog: interrupted\n"),
    ],
)
def test_run_turns_failures_into_one_line(error: BaseException, code: int, text: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> int:
        raise error

    assert cli.run(body, "prog") == code
    assert capsys.readouterr().err == text
    with pytest.raises(type(error)):
        cli.run(body, "prog", debug=True)  # --debug: the traceback


def test_run_returns_the_bodys_code() -> None:
    assert cli.run(lambda: None, "prog") == 0 and cli.run(lambda: 3, "prog") == 3


def test_check_range() -> None:
    assert cli.check_range("--r", (1, 9)) == (1, 9)
    for pair, msg in [((9, 1), "LO <= HI"), ((0, 9), ">= 1"), ((1, 10**13), "<= 999")]:
        with pytest.raises(cli.UsageError, match=msg):
            cli.check_range("--r", pair, 1, 999)


def test_types_are_argparse_types() -> None:
    for parse, text in ((cli.whole_number(0), "x"), (cli.finite_float(), "inf")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
    assert cli.whole_number(0)(" 3 ") == 3 and cli.finite_float()("3e-4") == 3e-4
