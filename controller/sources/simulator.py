"""`simulator` source: a seeded, realistic stream of posts about our brand and its competitors.

The embedded default for `make demo` and visitor tours, and the stream the
crisis scenario is rehearsed on. It models what a social-media command centre
sees:

- posting follows the daily rhythm of each country's local time (quiet at
  night, peaks late morning and evening), as a Poisson process whose rate
  changes every simulated 30 s, with occasional bursts around a trending tag;
- countries and languages with plausible weights, hashtags, and our running
  campaign hashtag, whose posts often share the launch video's URL;
- authors with heavy-tailed follower counts (log-normal, plus a Pareto tail
  of influencers), some of whom post much more than others (Zipf);
- a sentiment score per post, mostly mild, with a mean per brand;
- every brand's accounts (ours and the competitors', `own: true`) reply
  to complaints and questions after realistic delays (minutes by day, the next
  morning for most posts at night), each brand at its own rate and speed;
- `inject_spike()` starts a crisis: many more negative posts about a brand
  carrying crisis terms, for the crisis scenario.

Simulated time runs `speed` times faster than the `clock` (seconds per real
second), so tests can run a day in a fraction of a second by calling
`generate_until()` directly. For a given seed and start time the stream is
always the same, however often it is polled. The world it draws from
(countries, authors' names, texts, brand profiles) is `simulated_world`.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from controller.sources.base import Source
from controller.sources.simulated_world import (
    BURST_TAGS,
    COUNTRIES,
    CRISIS,
    DEFAULT_CRISIS_TERMS,
    DEFAULT_VIRAL_TERMS,
    NAMES,
    PRODUCTS,
    PROFILES,
    REPLIES,
    TEMPLATES,
    TOPIC_TAGS,
    VIRAL,
    Author,
    BrandProfile,
    Country,
    activity,
)
from wallrenderer.core.errors import WallError

#: simulated seconds per generation step; the rate is constant within a step
STEP_S = 30.0
#: natural bursts (a trending tag, a viral post) per simulated day
BURSTS_PER_DAY = 6.0
#: authors per country; who posts is Zipf-distributed over them
AUTHORS_PER_COUNTRY = 300
#: our brand teams' time zone (hours from UTC) for "business hours"
TEAM_UTC_OFFSET = 1.0
#: share of campaign posts that link the launch video, and of those links with a tracking tag
LAUNCH_VIDEO_SHARE = 0.3
TRACKING_TAG_SHARE = 0.4


@dataclass(frozen=True)
class Spike:
    """An injected or natural change of the stream about one brand over a time window."""

    kind: str                  # "negative", "positive" (injected) or "burst" (natural)
    brand: str
    start: float
    end: float
    factor: float              # posting rate about the brand is multiplied by this
    terms: tuple[str, ...]
    sentiment_shift: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """For the HTTP API's answer."""
        return {"kind": self.kind, "brand": self.brand, "start": self.start, "end": self.end,
                "factor": self.factor, "terms": list(self.terms)}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


class SimulatorSource(Source):
    """A seeded stream of posts about our brand and its competitors.

    Args:
        seed: the same seed (and start) gives the same stream.
        brand: our brand (the first of the brands compared).
        competitors: the other brands in the conversation.
        rate: posts per simulated minute, averaged over a day.
        speed: simulated seconds per second of `clock`.
        campaign: our running campaign hashtag (default `<brand>launch`).
        start: simulated Unix time at which the stream begins (default: now).
        backfill: simulated seconds of history generated at the first poll,
            so the wall's windows are not empty at start.
        clock: seconds, monotonic; tests pass their own.
        tick: real seconds between polls.
    """

    SPEC_OPTIONS = {"seed": int, "brand": str, "competitors": list, "rate": float,
                    "speed": float, "campaign": str, "backfill": float}

    def __init__(self, *, seed: int = 1, brand: str = "acme",
                 competitors: tuple[str, ...] | list[str] = ("globex", "initech", "umbrella"),
                 rate: float = 50.0, speed: float = 1.0, campaign: str | None = None,
                 start: float | None = None, backfill: float = 0.0, clock=time.monotonic,
                 tick: float = 0.25, name: str | None = None):
        super().__init__(name or "simulator")
        brands = [b.strip().lower() for b in (brand, *competitors) if b.strip()]
        if len(set(brands)) != len(brands):
            raise WallError(f"simulator: brands must differ, got {brands}")
        self.seed = seed
        self.brand = brands[0]
        self.rate = rate
        self.speed = speed
        self.campaign = (campaign or f"{self.brand}launch").lower().lstrip("#")
        self.clock = clock
        self.tick = tick
        self.start_time = time.time() if start is None else float(start)
        presets = [PROFILES[min(i, len(PROFILES) - 1)] for i in range(len(brands))]
        total_share = sum(p[0] for p in presets)
        self.profiles = {
            name: BrandProfile(name, p[0] / total_share, *p[1:])
            for name, p in zip(brands, presets, strict=True)
        }
        self._rng = random.Random(seed)
        # Its own generator, so the launch video leaves the rest of a seed's stream as it was.
        self._video_rng = random.Random(f"{seed}:launch-video")
        self._gen_lock = threading.Lock()
        self._cursor = self.start_time - backfill
        self._clock0: float | None = None
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._serial = itertools.count()
        self._spikes: list[Spike] = []
        self._authors: dict[str, tuple[list[Author], list[float]]] = {}
        self._country_cum = list(itertools.accumulate(c.weight for c in COUNTRIES))

    @property
    def launch_video_url(self) -> str:
        """The campaign's launch video, which campaign posts share (for `--track`)."""
        return f"https://{self.brand}.example/launch-video"

    @property
    def campaign_terms(self) -> list[str]:
        """What to `--track` to follow this stream's campaign: its hashtag and launch video."""
        return [f"#{self.campaign}", self.launch_video_url]

    # -- time --------------------------------------------------------------------

    def start(self, sink, raw_sink=None) -> None:
        """Start simulated time now (at `start`) and the source's thread."""
        self._clock0 = self.clock()
        super().start(sink, raw_sink)

    def now(self) -> float:
        """The current simulated time (where generation stands before `start()`)."""
        if self._clock0 is None:
            return self._cursor
        return self.start_time + (self.clock() - self._clock0) * self.speed

    def poll(self) -> float:
        """Hand over the posts simulated since the last poll."""
        self.emit(self.generate_until(self.now()))
        return self.tick

    # -- the crisis button -----------------------------------------------------

    def inject_spike(self, kind: str = "negative", brand: str | None = None,
                     minutes: float = 10.0, factor: float = 8.0,
                     terms: list[str] | tuple[str, ...] | None = None,
                     at: float | None = None) -> dict[str, Any]:
        """Start a crisis (or a viral moment) about a brand, from the tablet or the API.

        Args:
            kind: "negative" (complaints with crisis terms) or "positive" (viral praise).
            brand: which brand (default ours).
            minutes: simulated length of the spike.
            factor: how many times the usual rate of posts about the brand.
            terms: words the spike's posts carry (default: outage, down, refund, ...).
            at: simulated start (default: now).

        Returns:
            The spike, as a dict for the API's answer.

        Raises:
            WallError: unknown kind or brand, or a non-positive length or factor.
        """
        brand = (brand or self.brand).lower()
        if kind not in ("negative", "positive"):
            raise WallError(f"spike kind must be 'negative' or 'positive', got {kind!r}")
        if brand not in self.profiles:
            raise WallError(f"unknown brand {brand!r}; the simulator has {sorted(self.profiles)}")
        if not minutes > 0 or not factor >= 1:
            raise WallError(f"a spike needs minutes > 0 and factor >= 1, got {minutes}, {factor}")
        default = DEFAULT_CRISIS_TERMS if kind == "negative" else DEFAULT_VIRAL_TERMS
        terms = tuple(t.strip() for t in (terms or default) if t.strip()) or default
        start = self.now() if at is None else float(at)
        spike = Spike(kind, brand, start, start + minutes * 60.0, float(factor), terms)
        with self._gen_lock:
            self._spikes.append(spike)
        return spike.as_dict()

    # -- generation --------------------------------------------------------------

    def generate_until(self, until: float) -> list[dict[str, Any]]:
        """All posts (and replies) with a time up to `until`, in time order.

        Generation runs in whole steps of STEP_S simulated seconds, so the stream
        does not depend on how often this is called.
        """
        with self._gen_lock:
            while self._cursor < until:
                self._step(self._cursor, self._cursor + STEP_S)
                self._cursor += STEP_S
            out = []
            while self._queue and self._queue[0][0] <= until:
                out.append(heapq.heappop(self._queue)[2])
            return out

    def _step(self, t0: float, t1: float) -> None:
        rng = self._rng
        if rng.random() < BURSTS_PER_DAY * STEP_S / 86400.0:
            self._start_burst(t0)
        self._spikes = [s for s in self._spikes if s.end > t0]
        base = self.rate / 60.0
        brands = list(self.profiles.values())
        weights = []
        for profile in brands:
            boost = self._factor(profile.name, t0)
            for country in COUNTRIES:
                local = (t0 / 3600.0 + country.utc_offset) % 24.0
                weights.append(base * profile.share * country.weight * activity(local) * boost)
        cum = list(itertools.accumulate(weights))
        total = cum[-1]
        if total <= 0:
            return
        t = t0 + rng.expovariate(total)
        while t < t1:
            k = bisect.bisect_right(cum, rng.random() * total)
            k = min(k, len(weights) - 1)
            profile = brands[k // len(COUNTRIES)]
            country = COUNTRIES[k % len(COUNTRIES)]
            self._post(t, profile, country)
            t += rng.expovariate(total)

    def _factor(self, brand: str, t: float) -> float:
        active = [s.factor for s in self._spikes if s.brand == brand and s.start <= t < s.end]
        return max(active, default=1.0)

    def _start_burst(self, t0: float) -> None:
        rng = self._rng
        profiles = list(self.profiles.values())
        profile = rng.choices(profiles, weights=[p.share for p in profiles])[0]
        tag = rng.choice(BURST_TAGS).format(brand=profile.name)
        minutes = rng.uniform(5, 25)
        self._spikes.append(Spike("burst", profile.name, t0, t0 + minutes * 60,
                                  rng.uniform(2, 5), (tag,), rng.gauss(0, 0.15)))

    def _post(self, t: float, profile: BrandProfile, country: Country) -> None:
        rng = self._rng
        author = self._author(country)
        lang = author.language if author.language in TEMPLATES else "en"
        display = profile.name.capitalize()
        active = [s for s in self._spikes if s.brand == profile.name and s.start <= t < s.end]
        spike = max(active, key=lambda s: s.factor, default=None)
        tags: list[str] = []
        extra = spike is not None and rng.random() < 1 - 1 / spike.factor
        if extra and spike.kind != "burst":
            term = rng.choice(spike.terms)
            if spike.kind == "negative":
                sentiment, kind = _clamp(rng.gauss(-0.65, 0.2)), "neg"
                texts = CRISIS.get(lang, CRISIS["en"])
            else:
                sentiment, kind = _clamp(rng.gauss(0.7, 0.15)), "pos"
                texts = VIRAL.get(lang, VIRAL["en"])
            text = rng.choice(texts).format(brand=display, term=term)
            tags += [profile.name, "".join(term.lower().split())]
        else:
            shift = spike.sentiment_shift if extra else 0.0
            sentiment = _clamp(rng.gauss(profile.mean_sentiment + shift, 0.3))
            if sentiment > 0.3:
                kind = "pos"
            elif sentiment < -0.3:
                kind = "neg"
            else:
                kind = "ask" if rng.random() < 0.3 else "neu"
            product = rng.choice(PRODUCTS)
            text = rng.choice(TEMPLATES[lang][kind]).format(brand=display, product=product)
            if extra:
                tags.append(spike.terms[0])
            if rng.random() < 0.45:
                tags.append(profile.name)
            if profile.name == self.brand and rng.random() < 0.2:
                tags.append(self.campaign)
            if rng.random() < 0.3:
                tags.append(rng.choice(TOPIC_TAGS[kind]))
        tags = list(dict.fromkeys(tags))
        urls = []
        if rng.random() < 0.08:
            urls.append(f"https://{profile.name}.example/p/{rng.randrange(10**6)}")
        if self.campaign in tags and self._video_rng.random() < LAUNCH_VIDEO_SHARE:
            tagged = self._video_rng.random() < TRACKING_TAG_SHARE
            urls.append(self.launch_video_url + ("?utm_source=social" if tagged else ""))
        if tags:
            text += " " + " ".join(f"#{tag}" for tag in tags)
        post = {
            "id": f"sim{self.seed}-{next(self._serial)}",
            "time": round(t, 3),
            "network": "simulator",
            "author": author.name,
            "handle": author.handle,
            "followers": author.followers,
            "text": text + "".join(f" {u}" for u in urls),
            "language": author.language,
            "country": author.country,
            "brand": profile.name,
            "hashtags": tags,
            "urls": urls,
            "sentiment": round(sentiment, 3),
            "in_reply_to": "",
            "own": False,
        }
        self._push(post)
        wants = {"neg": 1.0, "ask": 1.0, "pos": 0.15}.get(kind, 0.0) * profile.reply_rate
        if rng.random() < wants:
            self._reply(post, profile, "thanks" if kind == "pos" else "care",
                        busy=spike is not None and spike.kind == "negative")

    def _reply(self, post: dict[str, Any], profile: BrandProfile, kind: str, busy: bool) -> None:
        """Schedule the brand account's answer to a customer's post."""
        rng = self._rng
        delay = rng.lognormvariate(math.log(profile.reply_median_s), 0.9)
        if busy:
            delay *= 3.0        # the care team is swamped during a crisis
        team_hour = (post["time"] / 3600.0 + TEAM_UTC_OFFSET) % 24.0
        if not 8.0 <= team_hour < 20.0 and rng.random() >= profile.night_cover:
            delay += ((8.0 - team_hour) % 24.0) * 3600.0 + rng.uniform(0, 5400)
        lang = post["language"] if post["language"] in REPLIES else "en"
        care = kind == "care"
        display = profile.name.capitalize()
        reply = {
            "id": f"sim{self.seed}-{next(self._serial)}",
            "time": round(post["time"] + max(delay, 20.0), 3),
            "network": "simulator",
            "author": f"{display} Care" if care else display,
            "handle": f"{profile.name}_care" if care else profile.name,
            "followers": profile.followers if care else profile.followers * 6,
            "text": f"@{post['handle']} {rng.choice(REPLIES[lang][kind])}",
            "language": lang,
            "country": "",
            "brand": profile.name,
            "hashtags": [],
            "urls": [],
            "sentiment": round(_clamp(rng.gauss(0.35, 0.1)), 3),
            "in_reply_to": post["id"],
            # Every brand's own account, ours or a competitor's (docs/posts.md): the
            # aggregation counts it as that brand's reply, never as a mention.
            "own": True,
        }
        self._push(reply)

    def _push(self, post: dict[str, Any]) -> None:
        heapq.heappush(self._queue, (post["time"], int(post["id"].rsplit("-", 1)[1]), post))

    def _author(self, country: Country) -> Author:
        """Someone from the country, the most active more often (Zipf)."""
        if country.code not in self._authors:
            self._authors[country.code] = self._make_authors(country)
        pool, cum = self._authors[country.code]
        return pool[min(bisect.bisect_right(cum, self._rng.random() * cum[-1]), len(pool) - 1)]

    def _make_authors(self, country: Country) -> tuple[list[Author], list[float]]:
        rng = random.Random(f"{self.seed}:{country.code}")
        langs = [lang for lang, _ in country.languages]
        lang_weights = [w for _, w in country.languages]
        pool = []
        for _ in range(AUTHORS_PER_COUNTRY):
            lang = rng.choices(langs, weights=lang_weights)[0]
            first, last = NAMES.get(lang, NAMES["en"])
            name = f"{rng.choice(first)} {rng.choice(last)}"
            given, family = name.split(" ", 1)
            handle = rng.choice((f"{given}{family}", f"{given}_{family[:3]}",
                                 f"{given[0]}{family}"))
            handle = _ascii(handle).replace(" ", "") + str(rng.randrange(1, 999))
            if rng.random() < 0.02:      # influencers: Pareto tail
                followers = int(min(8000 * rng.paretovariate(1.15), 30_000_000))
            else:
                followers = int(rng.lognormvariate(4.8, 1.5))
            pool.append(Author(name, handle, followers, country.code, lang))
        cum = list(itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(pool))))
        return pool, cum

