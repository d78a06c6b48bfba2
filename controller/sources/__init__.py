"""Where posts come from: the simulator, recorded files, JSON APIs, Mastodon, feeds, the webhook.

`parse_source_spec("mastodon:mastodon.social/tags/acme")` gives a `Source`;
the controller starts it with a sink and reads its `status()`. Each kind lives
in its own module, imported only when a spec asks for it, so the controller
does not load `requests` or `feedparser` for the simulator alone.
"""

from controller.sources.base import Source, SourceError
from controller.sources.spec import parse_source_spec

__all__ = ["Source", "SourceError", "parse_source_spec"]
