"""`python -m wallrenderer` is the `wallrenderer` command (the demo starts children this way)."""

import sys

from wallrenderer.cli import main

sys.exit(main())
