"""The simulated world: when people post (the daily rhythm), from where, who, and what they say.

The `simulator` source draws its posts from these tables: countries with
their time zones and languages, author names, post and reply texts per
language, crisis and viral terms, and how each brand is talked about and
answers.
"""

from __future__ import annotations

from dataclasses import dataclass

# Relative posting activity by local hour (0..23), the shape reported for
# Twitter and Facebook audiences: trough around 4:00, a morning climb, a
# lunch plateau and the day's peak in the evening. Normalised to mean 1.
_HOURLY = (0.45, 0.28, 0.18, 0.13, 0.12, 0.17, 0.35, 0.62, 0.90, 1.05, 1.15, 1.25,
           1.35, 1.30, 1.25, 1.22, 1.25, 1.35, 1.45, 1.55, 1.60, 1.50, 1.15, 0.75)
HOURLY_ACTIVITY = tuple(a * 24 / sum(_HOURLY) for a in _HOURLY)


def activity(local_hour: float) -> float:
    """Relative posting activity at a local time of day (mean 1 over a day)."""
    h = (local_hour - 0.5) % 24.0        # hour values sit at the middle of each hour
    i = int(h)
    frac = h - i
    return HOURLY_ACTIVITY[i] * (1 - frac) + HOURLY_ACTIVITY[(i + 1) % 24] * frac


@dataclass(frozen=True)
class Country:
    """Where authors post from: share of posts, UTC offset (hours) and languages."""

    code: str
    weight: float
    utc_offset: float
    languages: tuple[tuple[str, float], ...]


COUNTRIES = (
    Country("FR", 0.15, 1.0, (("fr", 0.92), ("en", 0.08))),
    Country("GB", 0.13, 0.0, (("en", 1.0),)),
    Country("US", 0.16, -5.0, (("en", 0.88), ("es", 0.12))),
    Country("DE", 0.10, 1.0, (("de", 0.85), ("en", 0.15))),
    Country("ES", 0.07, 1.0, (("es", 0.92), ("en", 0.08))),
    Country("IT", 0.05, 1.0, (("it", 0.92), ("en", 0.08))),
    Country("NL", 0.03, 1.0, (("nl", 0.6), ("en", 0.4))),
    Country("BR", 0.05, -3.0, (("pt", 1.0),)),
    Country("CA", 0.03, -5.0, (("en", 0.75), ("fr", 0.25))),
    Country("IN", 0.04, 5.5, (("en", 1.0),)),
    Country("JP", 0.03, 9.0, (("ja", 1.0),)),
    # most posts carry no location; their authors live mostly in Europe
    Country("", 0.16, 1.0, (("en", 0.55), ("fr", 0.2), ("de", 0.1), ("es", 0.15))),
)

NAMES = {
    "en": (("James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Priya", "Tom", "Grace", "Sam",
            "Chloe", "Arjun", "Mia", "Jack", "Zoe", "Ethan"),
           ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Patel", "Walker", "Clarke",
            "Hughes", "Lee", "Martin", "Evans")),
    "fr": (("Camille", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Inès",
            "Théo", "Sarah", "Nathan"),
           ("Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefèvre", "Girard", "Roux",
            "Fournier", "Mercier")),
    "de": (("Lukas", "Anna", "Leon", "Mia", "Finn", "Lena", "Jonas", "Marie", "Paul", "Laura"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann")),
    "es": (("Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Daniel", "Valeria", "Alejandro",
            "Carmen", "Diego"),
           ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz")),
    "it": (("Giulia", "Lorenzo", "Sofia", "Matteo", "Aurora", "Leonardo", "Alice", "Marco"),
           ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci")),
    "pt": (("Ana", "João", "Maria", "Pedro", "Beatriz", "Lucas", "Júlia", "Gabriel"),
           ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Lima")),
    "nl": (("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Finn", "Sanne"),
           ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit")),
    "ja": (("Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura"),
           ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto")),
}

# Post texts by language and kind: pos(itive), neg(ative), neu(tral), ask (a question
# for customer care). {brand} is the brand's display name, {product} one of its products
# (their names are the same in every language).
TEMPLATES = {
    "en": {
        "pos": ("Loving my new {product}, well done {brand}!", "{brand} support sorted my issue "
                "in 5 minutes. Impressed.", "The {product} is honestly the best thing I bought "
                "this year", "Big thanks to {brand} for the quick delivery!"),
        "neg": ("{brand} has been ignoring my ticket for a week. Not good enough.",
                "My {product} stopped working again. Really disappointed with {brand}.",
                "Worst customer service ever, {brand}. Still waiting for my refund.",
                "Why is the {product} so expensive now? Thinking of leaving {brand}."),
        "neu": ("Anyone tried the {product} from {brand}?", "{brand} announced a new {product} "
                "today", "Comparing the {product} with the alternatives this weekend",
                "Reading about {brand}'s results this quarter"),
        "ask": ("@{brand} how do I reset my {product}?", "Hey {brand}, is there an outage in my "
                "area?", "@{brand} when will my order ship?", "Can someone at {brand} help me "
                "with my bill?"),
    },
    "fr": {
        "pos": ("Trop content de mon {product}, bravo {brand} !", "Le service client {brand} a "
                "réglé mon problème en 5 minutes, merci !", "Le {product} est vraiment top"),
        "neg": ("{brand} ne répond toujours pas à ma réclamation. Inadmissible.",
                "Mon {product} ne marche plus, très déçu de {brand}.",
                "Toujours pas remboursé par {brand}, ça fait trois semaines."),
        "neu": ("Quelqu'un a testé le {product} de {brand} ?", "{brand} présente son nouveau "
                "{product} aujourd'hui", "Je compare le {product} avec la concurrence"),
        "ask": ("@{brand} comment réinitialiser mon {product} ?", "Bonjour {brand}, une panne "
                "dans mon quartier ?", "@{brand} quand sera livrée ma commande ?"),
    },
    "de": {
        "pos": ("Mein neues {product} ist super, danke {brand}!", "Der {brand} Support hat mir "
                "sofort geholfen. Top!"),
        "neg": ("{brand} antwortet seit einer Woche nicht. Enttäuschend.", "Mein {product} geht "
                "schon wieder nicht. Ärgerlich, {brand}."),
        "neu": ("Hat jemand das {product} von {brand} getestet?", "{brand} stellt heute das neue "
                "{product} vor"),
        "ask": ("@{brand} wie setze ich mein {product} zurück?", "Hallo {brand}, gibt es eine "
                "Störung?"),
    },
    "es": {
        "pos": ("¡Me encanta mi nuevo {product}, gracias {brand}!", "El soporte de {brand} me "
                "ayudó en minutos. Genial."),
        "neg": ("{brand} no contesta mi reclamación desde hace una semana.", "Mi {product} dejó "
                "de funcionar otra vez. Qué decepción, {brand}."),
        "neu": ("¿Alguien probó el {product} de {brand}?", "{brand} presenta hoy su nuevo "
                "{product}"),
        "ask": ("@{brand} ¿cómo reinicio mi {product}?", "Hola {brand}, ¿hay una avería en mi "
                "zona?"),
    },
    "it": {
        "pos": ("Adoro il mio nuovo {product}, grazie {brand}!",),
        "neg": ("{brand} non risponde al mio reclamo da una settimana.", "Il mio {product} non "
                "funziona più, che delusione {brand}."),
        "neu": ("Qualcuno ha provato il {product} di {brand}?",),
        "ask": ("@{brand} come resetto il mio {product}?",),
    },
    "pt": {
        "pos": ("Amei meu novo {product}, valeu {brand}!",),
        "neg": ("A {brand} não responde minha reclamação há uma semana.", "Meu {product} parou "
                "de funcionar de novo, {brand}."),
        "neu": ("Alguém já testou o {product} da {brand}?",),
        "ask": ("@{brand} como reinicio meu {product}?",),
    },
    "nl": {
        "pos": ("Blij met mijn nieuwe {product}, top {brand}!",),
        "neg": ("{brand} reageert al een week niet op mijn klacht.",),
        "neu": ("Heeft iemand de {product} van {brand} geprobeerd?",),
        "ask": ("@{brand} hoe reset ik mijn {product}?",),
    },
    "ja": {
        "pos": ("{brand}の{product}、最高です!",),
        "neg": ("{brand}のサポートから一週間返事がない。残念。",),
        "neu": ("{brand}の新しい{product}が発表された",),
        "ask": ("@{brand} {product}のリセット方法を教えてください",),
    },
}

REPLIES = {
    "en": {"care": ("Sorry to hear that! Please DM us your order number and we'll sort it out.",
                    "Thanks for reaching out. We're looking into it, check your DMs.",
                    "Hi, we're on it. Could you send us a DM with more details?"),
           "thanks": ("Thank you so much, we're glad you like it!",
                      "That's great to hear, thanks for sharing!")},
    "fr": {"care": ("Désolés pour la gêne ! Envoyez-nous votre numéro de commande en MP.",
                    "Merci pour votre message, nous regardons cela. Voir vos MP."),
           "thanks": ("Merci beaucoup, ravis que cela vous plaise !",)},
    "de": {"care": ("Das tut uns leid! Schick uns bitte eine DM mit deiner Bestellnummer.",),
           "thanks": ("Vielen Dank, das freut uns!",)},
    "es": {"care": ("¡Lo sentimos! Envíanos un MD con tu número de pedido.",),
           "thanks": ("¡Muchas gracias, nos alegra que te guste!",)},
}

CRISIS = {
    "en": ("{brand} {term} AGAIN?! Nothing works since this morning.",
           "Is anyone else hit by the {brand} {term}? Unacceptable.",
           "{brand} {term}: three hours and still no news. Switching provider.",
           "This {brand} {term} is a disaster, I want my money back"),
    "fr": ("Encore une {term} chez {brand} ?! Rien ne marche depuis ce matin.",
           "{brand} {term} : toujours aucune info. Je résilie."),
    "de": ("Schon wieder {term} bei {brand}! Seit heute Morgen geht nichts.",),
    "es": ("¿Otra vez {term} en {brand}? Nada funciona desde esta mañana.",),
}
VIRAL = {
    "en": ("Everyone is talking about the {brand} {term}!", "The {brand} {term} is genius, "
           "best ad of the year", "Just saw the {brand} {term}, I love it"),
    "fr": ("Tout le monde parle de {brand} {term} !",),
}
TOPIC_TAGS = {
    "pos": ("love", "happy", "unboxing", "recommended"),
    "neg": ("fail", "customerservice", "refund", "disappointed"),
    "neu": ("tech", "news", "deal", "review"),
    "ask": ("help", "support", "question"),
}
BURST_TAGS = ("{brand}deal", "giveaway", "{brand}live", "blackfriday", "breaking", "viral")
PRODUCTS = ("Box", "app", "fibre plan", "Mini", "Pro 5", "smart speaker")
DEFAULT_CRISIS_TERMS = ("outage", "down", "refund", "data breach")
DEFAULT_VIRAL_TERMS = ("ad", "launch", "giveaway")


@dataclass(frozen=True)
class BrandProfile:
    """How a brand is talked about and how its care team answers."""

    name: str
    share: float               # share of the conversation
    mean_sentiment: float
    reply_rate: float          # share of complaints and questions answered
    reply_median_s: float      # median first-response time by day
    night_cover: float         # share of night posts answered before the morning
    followers: int             # followers of its care account


# Ours first, then competitors, each a little less present, liked and responsive.
PROFILES = ((0.40, 0.12, 0.85, 6 * 60, 0.35, 420_000),
            (0.25, 0.05, 0.60, 20 * 60, 0.15, 310_000),
            (0.20, -0.04, 0.35, 45 * 60, 0.05, 150_000),
            (0.15, -0.10, 0.20, 90 * 60, 0.0, 90_000))


@dataclass(frozen=True)
class Author:
    """A simulated account."""

    name: str
    handle: str
    followers: int
    country: str
    language: str
