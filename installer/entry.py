"""The packaged executable's entry point: the same command line as `inspector`.

`inspector.cli.main` calls multiprocessing.freeze_support() first, so the training's child
process (a re-run of this executable) works in the bundle.
"""

import sys

from inspector.cli import main

if __name__ == "__main__":
    sys.exit(main())
