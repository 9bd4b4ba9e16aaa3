"""``python -m service.cli``: the ``gongkai`` command (serve starts its workers this way)."""
import sys

from service.cli import main

sys.exit(main())
