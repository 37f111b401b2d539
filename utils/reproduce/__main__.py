"""``python -m utils.reproduce``: the command line of :mod:`utils.reproduce`."""

import sys

from utils.reproduce import main

if __name__ == "__main__":
    sys.exit(main())
