"""``python -m utils.ladder``: the command line of :mod:`utils.ladder`."""

import sys

from utils.ladder import main

if __name__ == "__main__":
    sys.exit(main())
