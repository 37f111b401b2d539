"""``python -m utils.toy_lm``: the command line of :mod:`utils.toy_lm`."""

import sys

from utils.toy_lm import main

if __name__ == "__main__":
    sys.exit(main())
