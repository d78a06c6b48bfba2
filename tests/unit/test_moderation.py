"""Moderation for public screens: masking, lists, rate limits, approval queue, tours, audit."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from controller.moderation.audit import AuditLog, AuditRecord
from controller.moderation.moderator import Moderator
from controller.moderation.policy import ModerationPolicy, PolicyError, RateLimit
from controller.moderation.profanity import ProfanityMasker, builtin_words
from controller.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "moderation.md"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def post(n: int = 1, text: str = "Loving the new phone", handle: str = "@fan", **extra) -> dict:
    return {"id": f"p{n}", "time": 1_700_000_000.0, "network": "mastodon", "author": "A Fan",
            "handle": handle, "followers": 10, "text": text, "language": "en",
            "country": "FR", "brand": "acme", "hashtags": [], "urls": [], "sentiment": 0.5,
            "in_reply_to": None, "own": False, **extra}


def actions(audit: AuditLog) -> list[tuple[str, str, str, str]]:
    return [(r.post_id, r.action, r.reason, r.by) for r in audit.recent(100)]


# --- masking ----------------------------------------------------------------

MASKER = ProfanityMasker(builtin_words())


@pytest.mark.parametrize(("text", "shown"), [
    ("what the fuck", "what the f***"),
    ("SHIT happens", "S*** happens"),
    ("Fuck, this is shit!", "F***, this is s***!"),
    ("(shit)", "(s***)"),
    ("shit's", "s***'s"),
    ("#fuck #acme", "#f*** #acme"),
    ("sh1t", "s***"),
    ("$hit", "$***"),
    ("sh!t!!", "s***!!"),
    ("b1tch", "b****"),
    ("@ss", "@**"),
    ("a55hole", "a******"),
    ("fuuuuck", "f******"),
    ("ｆｕｃｋ", "ｆ***"),          # fullwidth
    ("fück", "f***"),              # precomposed accent
    ("fu\u0308ck", "f***"),        # combining accent: one star per letter
    ("говно shit говно", "говно s*** говно"),
    ("shit💩", "s***💩"),
    ("@shithead_99", "@s*******_99"),
])
def test_masks_listed_words(text, shown):
    assert MASKER.mask(text) == shown


@pytest.mark.parametrize("text", [
    "class", "assess", "assets", "bass", "passion", "Scunthorpe", "cocktail", "therapist",
    "pricked", "cocky", "shitake", "as", "glass",
    "éshit", "shitè", "日本shit",          # letters of any script are part of the word
    "455", "$55",                          # numbers are not leetspeak
    "f u c k", "",
])
def test_leaves_clean_words_and_word_parts_alone(text):
    assert MASKER.mask(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Mn", "Cs"))))
def test_masking_keeps_length_and_is_idempotent(text):
    once = MASKER.mask(text)
    assert len(once) == len(text)
    assert MASKER.mask(once) == once


def test_extra_words_and_allow_words():
    masker = ProfanityMasker(builtin_words() | {"frak"}, allow=["dick"])
    assert masker.mask("frakking frak, Dick!") == "frakking f***, Dick!"
    assert masker.mask("dickhead") == "d*******"


def test_masking_off_shows_text_as_written():
    moderator = Moderator(ModerationPolicy(mask_profanity=False))
    assert moderator.screen(post(text="oh shit")).text == "oh shit"


def test_shown_post_masks_text_author_and_handle_and_leaves_the_input_alone():
    original = post(text="shit day", handle="@fuckface", author="Shit Happens")
    decision = Moderator(ModerationPolicy()).screen(original)
    assert decision.action == "show"
    assert decision.post["text"] == "s*** day"
    assert decision.post["author"] == "S*** Happens"
    assert decision.post["handle"] == "@f*******"
    assert decision.post["brand"] == "acme"
    assert original["text"] == "shit day"


# --- block and allow lists ----------------------------------------------------


def test_blocked_author_is_hidden_whatever_the_case_and_audited():
    audit = AuditLog()
    moderator = Moderator(ModerationPolicy(block_authors={"@Troll"}), audit)
    assert moderator.screen(post(1, handle="@troll")).action == "hide"
    decision = moderator.screen(post(2, handle="TROLL"))
    assert (decision.action, decision.reason) == ("hide", "blocked author")
    assert moderator.screen(post(3, handle="@trolley")).action == "show"
    assert actions(audit) == [("p1", "hide", "blocked author", "policy"),
                              ("p2", "hide", "blocked author", "policy")]
    assert audit.recent(1)[0].handle == "TROLL"


@pytest.mark.parametrize(("field", "value"), [
    ("text", "Time to KILL the competition"),
    ("text", "kill!"),
    ("hashtags", ["Kill"]),
    ("urls", ["https://example.com/kill"]),
    ("author", "Kill Bill"),
])
def test_blocked_term_hides_wherever_it_appears(field, value):
    moderator = Moderator(ModerationPolicy(block_terms=("kill",)))
    decision = moderator.screen(post(**{field: value}))
    assert (decision.action, decision.reason) == ("hide", "blocked term 'kill'")


def test_blocked_term_matches_whole_words_and_phrases():
    moderator = Moderator(ModerationPolicy(block_terms=("kill", "bomb threat", "#boycottacme")))
    assert moderator.screen(post(1, text="new skills unlocked")).action == "show"
    assert moderator.screen(post(2, text="a BOMB\n threat")).reason == "blocked term 'bomb threat'"
    assert moderator.screen(post(3, hashtags=["BoycottAcme"])).action == "hide"
    assert moderator.screen(post(4, text="#boycottacmefans")).action == "show"


def test_allow_list_skips_the_queue_but_not_masking_or_blocked_terms():
    policy = ModerationPolicy(approve_before_display=True, allow_authors={"@AcmeCare"},
                              block_terms=("refund scam",))
    moderator = Moderator(policy)
    assert moderator.screen(post(1, handle="@fan")).action == "queue"
    shown = moderator.screen(post(2, handle="@acmecare", text="sorry about that shit"))
    assert (shown.action, shown.text) == ("show", "sorry about that s***")
    assert moderator.screen(post(3, handle="@acmecare", text="refund scam")).action == "hide"


def test_block_list_wins_over_allow_list():
    policy = ModerationPolicy(block_authors={"x"}, allow_authors={"x"})
    assert Moderator(policy).screen(post(handle="@x")).action == "hide"


# --- rate limit ---------------------------------------------------------------


def test_rate_limit_per_author_with_a_sliding_window():
    clock = FakeClock()
    audit = AuditLog()
    moderator = Moderator(ModerationPolicy(rate_limits=(RateLimit(2, 1.0),)), audit, clock)
    assert moderator.screen(post(1)).action == "show"
    clock.now += 10
    assert moderator.screen(post(2)).action == "show"
    clock.now += 10
    limited = moderator.screen(post(3))
    assert (limited.action, limited.reason) == ("hide", "rate limited (2 per 1 min)")
    assert moderator.screen(post(4, handle="@other")).action == "show"
    assert moderator.screen(post(5, network="bluesky")).action == "show"  # another account
    clock.now += 41  # the first post is now 61 s old
    assert moderator.screen(post(6)).action == "show"
    assert moderator.screen(post(7)).action == "hide"
    assert actions(audit) == [("p3", "hide", "rate limited (2 per 1 min)", "policy"),
                                           ("p7", "hide", "rate limited (2 per 1 min)", "policy")]


def test_hidden_posts_do_not_use_up_the_rate_limit():
    clock = FakeClock()
    policy = ModerationPolicy(rate_limits=(RateLimit(1, 5.0),), block_terms=("spam",))
    moderator = Moderator(policy, clock=clock)
    assert moderator.screen(post(1, text="spam")).action == "hide"
    assert moderator.screen(post(2)).action == "show"


# --- approval queue -----------------------------------------------------------


def test_approval_queue_flow_and_its_audit():
    clock = FakeClock()
    audit = AuditLog()
    moderator = Moderator(ModerationPolicy(approve_before_display=True), audit, clock)
    for n in (1, 2, 3):
        assert moderator.screen(post(n, text=f"post {n} is shit")) == \
            moderator.screen(post(n, text="delivered twice"))
    assert [p["id"] for p in moderator.queue()] == ["p1", "p2", "p3"]
    assert moderator.queue()[0]["text"] == "post 1 is shit"  # operators see it as written

    clock.now += 5
    approved = moderator.approve("p2", by="ana")
    assert approved["text"] == "post 2 is s***"
    assert moderator.reject("p1", by="ben", reason="off topic")
    assert moderator.approve("p1", by="ana") is None
    assert not moderator.reject("nope", by="ana")
    assert [p["id"] for p in moderator.queue()] == ["p3"]
    assert actions(audit) == [("p2", "approve", "", "ana"), ("p1", "reject", "off topic", "ben")]
    assert audit.recent(1)[0].time == clock.now


def test_queue_is_bounded_and_drops_the_oldest_with_an_audit_entry():
    audit = AuditLog()
    moderator = Moderator(ModerationPolicy(approve_before_display=True, queue_size=3), audit)
    for n in range(5):
        moderator.screen(post(n))
    assert [p["id"] for p in moderator.queue()] == ["p2", "p3", "p4"]
    assert actions(audit) == [("p0", "drop", "approval queue full (3 posts)", "policy"),
                              ("p1", "drop", "approval queue full (3 posts)", "policy")]


# --- tour policy --------------------------------------------------------------

TOUR_POLICY = """\
moderation:
  block_terms: [refund]
  rate_limit: {posts: 5, minutes: 10}
  tour:
    approve_before_display: true
    block_terms: [competitor]
    rate_limit: {posts: 1, minutes: 10}
"""


def test_tour_policy_is_stricter_while_active_and_back_after():
    clock = FakeClock()
    policy = ModerationPolicy.from_mapping(yaml.safe_load(TOUR_POLICY)["moderation"])
    moderator = Moderator(policy, clock=clock)
    assert moderator.screen(post(1, text="competitor is cheaper")).action == "show"
    assert moderator.screen(post(2, handle="@b")).action == "show"

    moderator.set_tour(True)
    assert moderator.tour_active and moderator.policy.approve_before_display
    assert moderator.screen(post(3, text="competitor is cheaper", handle="@c")).reason == \
        "blocked term 'competitor'"
    assert moderator.screen(post(4, text="refund now", handle="@c")).reason == \
        "blocked term 'refund'"  # the base's terms still apply
    assert moderator.screen(post(5, handle="@c")).action == "queue"
    assert moderator.screen(post(6, handle="@c")).reason == "rate limited (1 per 10 min)"

    moderator.set_tour(False)
    assert moderator.screen(post(7, handle="@c")).action == "show"
    assert moderator.screen(post(8, text="competitor is cheaper")).action == "show"
    assert [p["id"] for p in moderator.queue()] == ["p5"]  # still waits for an operator


def test_without_a_tour_section_the_tour_uses_the_base_policy():
    policy = ModerationPolicy.from_mapping({"block_terms": ["x"]})
    assert policy.effective(tour=True) is policy


def test_tour_may_not_loosen_the_base_policy():
    data = {"approve_before_display": True, "tour": {"approve_before_display": False}}
    with pytest.raises(PolicyError, match=r"moderation\.tour\.approve_before_display"):
        ModerationPolicy.from_mapping(data, source="policy.yaml")
    with pytest.raises(PolicyError, match="not allowed in a tour"):
        ModerationPolicy.from_mapping({"tour": {"queue_size": 3}})


# --- policy files ---------------------------------------------------------------


def test_documented_example_loads(tmp_path):
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S).group(1)
    path = tmp_path / "moderation.yaml"
    path.write_text(example)
    policy = ModerationPolicy.load(path)
    assert policy.mask_profanity and policy.block_terms and policy.rate_limits
    assert policy.tour is not None and policy.tour.approve_before_display
    assert set(policy.block_terms) < set(policy.tour.block_terms)
    assert len(policy.tour.rate_limits) == 2


def test_every_documented_key_is_a_policy_key():
    section = DOC.read_text().split("## The policy file")[1].split("### The tour policy")[0]
    keys = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert keys == {"mask_profanity", "builtin_words", "profanity_words", "allow_words",
                    "block_authors", "allow_authors", "block_terms", "rate_limit",
                    "approve_before_display", "queue_size", "tour"}


@pytest.mark.parametrize(("data", "message"), [
    ({"mask_profanty": True}, "moderation.mask_profanty: unknown key 'mask_profanty'; "
                              "did you mean 'mask_profanity'?"),
    ({"mask_profanity": "yes"}, "moderation.mask_profanity: expected true or false"),
    ({"rate_limit": {"posts": 0, "minutes": 5}}, "moderation.rate_limit.posts: should be a "
                                                 "positive integer, got 0"),
    ({"rate_limit": {"posts": 2}}, "moderation.rate_limit: expected {posts: N, minutes: M}"),
    ({"block_authors": "@troll"}, "moderation.block_authors: expected a list of strings"),
    ({"block_terms": ["ok", ""]}, r"moderation.block_terms\[1\]: expected a non-empty string"),
    ({"profanity_words": ["son of a"]}, r"moderation.profanity_words\[0\]: 'son of a' is not a "
                                        "single word"),
    ({"queue_size": 2.5}, "moderation.queue_size: should be a positive integer"),
    ({"tour": ["x"]}, "moderation.tour: expected a mapping"),
])
def test_bad_policy_names_source_and_key(data, message):
    with pytest.raises(PolicyError, match=f"^policy.yaml: {message}"):
        ModerationPolicy.from_mapping(data, source="policy.yaml")


def test_bad_policy_file_is_named(tmp_path):
    path = tmp_path / "moderation.yaml"
    path.write_text("block_terms: [x]\n")
    with pytest.raises(PolicyError, match="top-level 'moderation:'"):
        ModerationPolicy.load(path)
    with pytest.raises(PolicyError, match="missing.yaml"):
        ModerationPolicy.load(tmp_path / "missing.yaml")


# --- persistence ---------------------------------------------------------------


def test_queue_and_audit_survive_a_restart(tmp_path):
    policy = ModerationPolicy(approve_before_display=True, queue_size=3)
    with Store(tmp_path / "wall.db") as store:
        moderator = Moderator(policy, AuditLog(store), store=store)
        for n in range(4):
            moderator.screen(post(n))
        moderator.reject("p1", by="ana", reason="spam")

    with Store(tmp_path / "wall.db") as store:
        audit = AuditLog(store)
        moderator = Moderator(policy, audit, store=store)
        assert [p["id"] for p in moderator.queue()] == ["p2", "p3"]
        assert moderator.queue()[0] == post(2)
        assert actions(audit) == [("p0", "drop", "approval queue full (3 posts)", "policy"),
                                  ("p1", "reject", "spam", "ana")]
        assert moderator.approve("p3", by="ana") is not None

    with Store(tmp_path / "wall.db") as store:
        assert [p["id"] for p in Moderator(policy, store=store).queue()] == ["p2"]
        assert store.audit_recent(1)[0] == AuditRecord(
            store.audit_recent(1)[0]["time"], "p3", "@fan", "approve", "", "ana").to_dict()


def test_a_failing_store_is_logged_and_moderation_goes_on(tmp_path, caplog):
    store = Store(tmp_path / "wall.db")
    store.close()
    audit = AuditLog(store)
    moderator = Moderator(ModerationPolicy(approve_before_display=True,
                                           block_authors={"troll"}), audit, store=store)
    assert moderator.screen(post(1, handle="@troll")).action == "hide"
    assert moderator.screen(post(2)).action == "queue"
    assert moderator.approve("p2", by="ana") is not None
    assert len(audit.recent()) == 2
    assert "store is closed" in caplog.text
