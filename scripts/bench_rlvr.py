"""Benchmark (not a test): cost of entropy-guided updates, measured side by side on the same batch.

(a) FLOPs and median time of one policy update: full vs top-20% masked (Wang et al. / TRL) vs the
    "sparse_head" variant that evaluates the LM head only at the selected positions (a real saving, not the
    paper's code). On the task model (or a same-size stand-in) and on a stand-in with a 32k-token vocab.
(b) EntropyAdvantageGRPOTrainer (Cheng et al.) vs plain GRPO: update only (loss + backward on one generated
    batch) and a whole TRL training step (generation + scoring + update, same seeded batch). Target <= 1.10x.

(a') FLOPs of the same update at SmolLM2-135M's shape (49k vocab, 30 layers), extrapolated from 1-2 layers.

    python scripts/bench_rlvr.py [--repeats 7] [--threads 1] [--standin] [--skip-b]

Prints ratios of medians. Timings depend on the machine's load: run it alone.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import utils.rlvr as R
from utils.rlvr import compute as C
from utils.rlvr import tasks as T


def batch_from_trainer(trainer):
    raw = next(iter(trainer.get_train_dataloader()))
    torch.manual_seed(0)
    inputs = trainer._generate_and_score_completions(raw)
    return raw, inputs


def part_a(model, b: dict, repeats: int, label: str) -> dict:
    ids, att, cm, adv = b["input_ids"], b["attention_mask"], b["completion_mask"], b["advantages"]
    sel = R.entropy_mask(b["entropies"], cm, 0.2, "top")
    res = {v: C.update_cost(model, ids, att, cm, adv, sel, v, repeats=repeats) for v in ("full", "masked", "sparse_head")}
    V = model.get_output_embeddings().weight.shape[0]
    print(f"\n(a) one policy update, {label}: batch {tuple(ids.shape)}, vocab {V}, {int(cm.sum())} completion tokens, "
          f"{int(sel.sum())} selected")
    for v, r in res.items():
        print(f"    {v:12s} {r['flops'] / 1e9:8.3f} GFLOP   median {r['median_s'] * 1e3:8.2f} ms   "
              f"FLOPs x{r['flops'] / res['full']['flops']:.3f}   time x{r['median_s'] / res['full']['median_s']:.3f}")
    return res


def part_a_smollm2(b: dict, rho: float = 0.2, n_seq: int = 4) -> None:
    """FLOPs only, SmolLM2-135M's shape (30 layers, 49k vocab), counted on 1-2 layers and extrapolated."""
    ids, att, cm = b["input_ids"][:n_seq], b["attention_mask"][:n_seq], b["completion_mask"][:n_seq]
    sel = R.entropy_mask(b["entropies"][:n_seq], cm, rho, "top")
    f = C.extrapolated_update_flops(C.llama_like, C.SMOLLM2_135M_SHAPE["num_hidden_layers"], ids, att, cm,
                                    b["advantages"][:n_seq], sel)
    print(f"\n(a') SmolLM2-135M shape (vocab {C.SMOLLM2_135M_SHAPE['vocab_size']}), {n_seq} sequences, FLOPs counted on "
          f"1-2 layers and extrapolated to 30: full {f['full'] / 1e9:.2f} GFLOP, sparse_head {f['sparse_head'] / 1e9:.2f} "
          f"GFLOP (x{f['sparse_head'] / f['full']:.3f}); masked = full by construction")


def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def part_b(cfg: R.RunConfig, standin: bool, repeats: int) -> None:
    plain, _ = R.build_trainer(cfg.replace(advantage="grpo"), 0, standin=standin)
    shaped, _ = R.build_trainer(cfg.replace(advantage="entropy"), 0, standin=standin)
    shaped.model.load_state_dict(plain.model.state_dict())
    raw, inputs = batch_from_trainer(plain)
    for t in (plain, shaped):
        t.model.train()
        t.create_optimizer_and_scheduler(num_training_steps=10)
        t.current_gradient_accumulation_steps = cfg.gradient_accumulation_steps  # set by Trainer.train() otherwise

    def update(t):
        def f():
            t.model.zero_grad(set_to_none=True)
            t.compute_loss(t.model, inputs).backward()
        return f

    def step(t):
        def f():
            torch.manual_seed(0)
            t.model.zero_grad(set_to_none=True)
            t.training_step(t.model, raw, None)
        return f

    for t in (plain, shaped):  # warm-up
        update(t)()
        step(t)()
    up, st = {"plain": [], "shaped": []}, {"plain": [], "shaped": []}
    for _ in range(repeats):  # interleaved so that load changes hit both alike
        up["plain"].append(median_time(update(plain), 1))
        up["shaped"].append(median_time(update(shaped), 1))
        st["plain"].append(median_time(step(plain), 1))
        st["shaped"].append(median_time(step(shaped), 1))
    mu = {k: statistics.median(v) for k, v in up.items()}
    ms = {k: statistics.median(v) for k, v in st.items()}
    n = inputs["completion_ids"].shape
    print(f"\n(b) EntropyAdvantageGRPOTrainer vs GRPOTrainer, batch of {n[0]} completions x {n[1]} tokens, {repeats} repeats")
    print(f"    update only (loss+backward): plain {mu['plain'] * 1e3:.1f} ms, shaped {mu['shaped'] * 1e3:.1f} ms, "
          f"ratio {mu['shaped'] / mu['plain']:.3f}")
    print(f"    whole TRL step (generate+score+update): plain {ms['plain'] * 1e3:.1f} ms, shaped {ms['shaped'] * 1e3:.1f} ms, "
          f"ratio {ms['shaped'] / ms['plain']:.3f}  (target <= 1.10)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--standin", action="store_true", help="use a same-size stand-in instead of the task model")
    ap.add_argument("--skip-b", action="store_true", help="only part (a): the update cost of masking")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    standin = a.standin
    if not standin:
        try:
            from utils import toy_lm

            toy_lm.load_task_model()
        except Exception as e:  # noqa: BLE001
            print(f"task model unavailable ({type(e).__name__}: {e}); using a same-size stand-in")
            standin = True
    if standin:  # same shape as the task model: 3 layers, 96 wide, 4 heads
        orig = T.make_standin
        T.make_standin = lambda **k: orig(n_embd=96, n_layer=3, n_head=4, **{x: y for x, y in k.items() if x == "extra_vocab"})
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, model: {'stand-in' if standin else 'task model'}")
    cfg = R.load_config("countdown_top20", profile="default").replace(eval_n=0)
    b = C.policy_batch(cfg, 0, standin=standin)
    part_a(b["model"], b, a.repeats, "task-size model")
    big, _ = T.make_standin(n_embd=96, n_layer=3, n_head=4, extra_vocab=32_000)
    part_a(big, b, a.repeats, "same backbone, 32k-token vocab (LM head dominates)")
    part_a_smollm2(b)
    if not a.skip_b:
        part_b(cfg, standin, a.repeats)


if __name__ == "__main__":
    main()
