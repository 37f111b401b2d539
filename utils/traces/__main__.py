"""``python -m utils.traces``: the command line of :mod:`utils.traces`."""

import sys

from utils.traces import main

if __name__ == "__main__":
    sys.exit(main())
