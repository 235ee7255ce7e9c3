"""Synthetic but plausible Polish diplomacy copy, driven by a seeded RNG.

The only real article we have is the seed (see SEED below); everything else is generated from
small phrase lists so that pages read like rp.pl copy (Polish quotes „…”, speech paragraphs that
open with a dash, non-breaking spaces after one-letter words) without pretending to be real news.
"""

from __future__ import annotations

import html
import random
import re
import unicodedata

# --- the seed article (rp.pl, kept verbatim) ------------------------------------------------------

SEED = {
    "article_id": "40671561",
    "slug": "sekretarz-generalny-nato-reaguje-na-pakt-obronny-zawarty-przez-rosje-i-koree-polnocna",
    "title": (
        "Sekretarz generalny NATO reaguje na pakt obronny zawarty przez Rosję i Koreę Północną"
    ),
    "lead": (
        "Podpisanie przez Władimira Putina i Kim Dzong Una umowy o partnerstwie strategicznym "
        "między Rosją a Koreą Północną, której elementem jest pakt obronny łączący oba kraje, "
        "skomentował sekretarz generalny Sojuszu, Jens Stoltenberg."
    ),
    "caption": "Kim Dzong, Jens Stoltenberg, Władimir Putin",
    "credit": (
        "REUTERS/Johanna Geron, REUTERS/Maxim Shemetov, Sputnik/Gavriil Grigorov/Pool via REUTERS"
    ),
    "p1": (
        "Według Stoltenberga podpisanie paktu obronnego przez Rosję i Koreę Północną wskazuje na "
        "nasilającą się współpracę między autorytarnymi siłami i „podkreśla wagę tego, by "
        "demokracje prezentowały wspólny front”."
    ),
    "p2": (
        "Na mocy umowy zawartej między Rosją a Koreą Północną, której treść ujawniła agencja KCNA, "
        "oba kraje zobowiązują się „bez zwłoki” udzielić pomocy wojskowej drugiej stronie, jeśli "
        "zostanie ona zaatakowana przez jedno państwo lub grupę państw."
    ),
    "h1": "Jens Stoltenberg ostrzega: Reżimy autorytarne wspierają się, jak nigdy dotąd",
    "p3": (
        "Stoltenberg stwierdził, że Korea Północna już wcześniej dostarczyła „niezwykłą ilość "
        "amunicji” walczącej z Ukrainą Rosji, a Chiny i Iran „wspierają Moskwę wojskowo w jej "
        "wojnie przeciw Ukrainie”."
    ),
    "card": "Andrzej Łomanowski: Antyzachodni front Putina w Azji",
    "p4": (
        "- Musimy być świadomi, że autorytarne siły coraz bardziej się do siebie zbliżają. "
        "Wspierają się nawzajem w sposób, którego dotąd nie widzieliśmy — mówił Stoltenberg w "
        "czasie dyskusji, w której brał udział w trakcie oficjalnej wizyty w Kanadzie."
    ),
    "p5": (
        "- Kiedy coraz bardziej i bardziej do siebie się zbliżają - autorytarne reżimy, takie jak "
        "Korea Północna i Chiny, Iran, Rosja — jest jeszcze ważniejsze, abyśmy zbliżali się do "
        "siebie jako państwa wierzące w wolność i demokrację - dodał sekretarz generalny NATO."
    ),
    "quote": (
        "Jeśli nie będziemy w stanie zachować pokoju, wówczas to co robimy w kwestii ochrony "
        "zdrowia, zmian klimatu i edukacji... nie powiedzie się"
    ),
    "quote_by": "Jens Stoltenberg, sekretarz generalny NATO",
    "h2": (
        "Sekretarz generalny NATO tłumaczy, dlaczego Sojusz zaprasza na szczyt przywódców państw "
        "znajdujących się w Azji i na Pacyfiku"
    ),
    "p6": (
        "Stoltenberg mówił też, że zbliżenie Rosji z państwami w Azji (po wizycie w Korei "
        "Północnej Władimir Putin udaje się do Wietnamu) oznacza, że rośnie znaczenie współpracy "
        "NATO z sojusznikami w rejonie Azji i Pacyfiku — dlatego, jak wyjaśnił, przywódcy "
        "Australii, Japonii, Nowej Zelandii i Korei Południowej zostali zaproszeni na szczyt NATO "
        "w Waszyngtonie."
    ),
    "p7": (
        "W kontekście wydatków krajów NATO na zbrojenia Stoltenberg mówił, że wiele państw "
        "Sojuszu „obawia się o równowagę budżetową”. - Chcą wydawać pieniądze na zdrowie i "
        "edukację - mówił. - Jeśli nie będziemy w stanie zachować pokoju, wówczas to co robimy w "
        "kwestii ochrony zdrowia, zmian klimatu i edukacji... nie powiedzie się - ostrzegł."
    ),
    # The related items under the seed, in page order: (label, title).
    "related": [
        ("Dyplomacja", "Szymon Hołownia po rozmowie z Recepem Tayyipem Erdoganem. Rozpoczęła się "
                       "wizyta marszałka Sejmu w Turcji"),
        ("Dyplomacja", 'Zmarł konsul Rafał Kocot. Był przyjacielem "Rzeczpospolitej"'),
        ("Dyplomacja", "Prezydent Finlandii chce wyrzucić Rosję z Rady Bezpieczeństwa ONZ"),
        ("Dyplomacja", "Papież Franciszek zabrał głos w sprawie wyborów prezydenckich w USA"),
        ("Materiał Promocyjny", "Wpływ amerykańskich firm na rozwój polskiej gospodarki"),
        ("Dyplomacja", "Rosja wydala sześciu brytyjskich dyplomatów. FSB oskarża ich o "
                       "szpiegostwo"),
    ],
}

# --- phrase lists ---------------------------------------------------------------------------

# (full name/role, short form, feminine?)
PEOPLE = [
    ("Minister spraw zagranicznych Radosław Sikorski", "Sikorski", False),
    ("Rzecznik MSZ Paweł Wroński", "Wroński", False),
    ("Sekretarz generalny NATO Mark Rutte", "Rutte", False),
    ("Szefowa unijnej dyplomacji Kaja Kallas", "Kallas", True),
    ("Prezydent Francji Emmanuel Macron", "Macron", False),
    ("Premier Węgier Viktor Orbán", "Orbán", False),
    ("Szef MSZ Ukrainy Andrij Sybiha", "Sybiha", False),
    ("Wiceminister spraw zagranicznych Władysław Teofil Bartoszewski", "Bartoszewski", False),
    ("Przewodnicząca Komisji Europejskiej Ursula von der Leyen", "von der Leyen", True),
    ("Sekretarz stanu USA Marco Rubio", "Rubio", False),
    ("Ambasador RP przy NATO Jacek Najder", "Najder", False),
    ("Szef MSZ Niemiec Johann Wadephul", "Wadephul", False),
    ("Rzeczniczka rosyjskiego MSZ Maria Zacharowa", "Zacharowa", True),
    ("Minister spraw zagranicznych Litwy Kęstutis Budrys", "Budrys", False),
]

SAID = ["powiedział", "podkreślił", "zapowiedział", "ocenił", "przypomniał", "oświadczył",
        "zaznaczył", "stwierdził", "ostrzegł", "dodał", "przekonywał", "zapewnił"]

THAT = [
    "rozmowy w sprawie zawieszenia broni wchodzą w decydującą fazę",
    "Polska nie zgodzi się na żadne ustępstwa kosztem Ukrainy",
    "sankcje wobec Rosji zostaną przedłużone o kolejne pół roku",
    "Sojusz musi szybciej zwiększać wydatki na obronność",
    "ambasada wznowi pracę jeszcze przed końcem roku",
    "wizyta ma przede wszystkim charakter roboczy",
    "porozumienie o współpracy wojskowej jest gotowe do podpisania",
    "decyzja o wydaleniu dyplomatów była odpowiedzią na prowokację",
    "rząd oczekuje od partnerów jasnej deklaracji w sprawie granicy wschodniej",
    "Unia Europejska przygotowuje kolejny pakiet pomocy finansowej",
    "Chiny nie mogą dłużej udawać neutralności",
    "negocjacje akcesyjne powinny ruszyć w pierwszej połowie przyszłego roku",
    "konsulat w Irkucku pozostanie zamknięty do odwołania",
    "szczyt w Waszyngtonie pokazał jedność Zachodu",
    "Warszawa liczy na stałą obecność wojsk amerykańskich",
    "Budapeszt znów blokuje wspólne stanowisko Unii",
    "rozmowy z Pekinem były trudne, ale rzeczowe",
    "Rosja prowadzi wojnę hybrydową na terytorium państw Unii",
]

QUOTES = [
    "Nie ma zgody na to, by o Ukrainie decydowano bez Ukrainy",
    "Jesteśmy gotowi do rozmów, ale nie za wszelką cenę",
    "Bezpieczeństwo Europy zaczyna się na wschodniej flance",
    "To jest jasny sygnał, że Sojusz pozostaje zjednoczony",
    "Oczekujemy konkretnych decyzji, a nie kolejnych deklaracji",
    "Dyplomacja wymaga cierpliwości, ale także stanowczości",
    "Nikt nie chce eskalacji, ale nie damy się zastraszyć",
    "Ta wizyta otwiera nowy rozdział w naszych relacjach",
    "Granice w Europie nie mogą być zmieniane siłą",
    "Musimy mówić jednym głosem, inaczej przegramy",
]

PLACES = [  # (locative, genitive)
    ("Brukseli", "Brukseli"), ("Waszyngtonie", "Waszyngtonu"), ("Kijowie", "Kijowa"),
    ("Berlinie", "Berlina"), ("Paryżu", "Paryża"), ("Pekinie", "Pekinu"), ("Ankarze", "Ankary"),
    ("Genewie", "Genewy"), ("Nowym Jorku", "Nowego Jorku"), ("Wilnie", "Wilna"),
    ("Londynie", "Londynu"), ("Rzymie", "Rzymu"), ("Budapeszcie", "Budapesztu"),
    ("Kiszyniowie", "Kiszyniowa"), ("Tokio", "Tokio"),
]

SOURCES = ["agencja Reuters", "PAP", "dziennik „Financial Times”", "portal Politico",
           "agencja AFP", "telewizja CNN", "„Le Monde”", "agencja Bloomberg", "„Kyiv Independent”"]

FACTS = [
    "to pierwsza taka wizyta od ponad dekady",
    "w ubiegłym roku obroty handlowe obu państw wzrosły o jedną piątą",
    "ambasador został wezwany do MSZ już po raz trzeci w tym miesiącu",
    "rozmowy prowadzono przy zamkniętych drzwiach",
    "dokument ma zostać przyjęty przez Radę UE w grudniu",
    "wcześniej podobną decyzję podjęły Czechy i Estonia",
    "delegacji towarzyszyli przedstawiciele resortu obrony",
    "sprawa od miesięcy obciąża relacje między oboma krajami",
]

COUNTRIES = [  # (nominative, genitive, adjective plural-ish for titles)
    ("Polska", "Polski"), ("Rosja", "Rosji"), ("Ukraina", "Ukrainy"), ("Niemcy", "Niemiec"),
    ("Francja", "Francji"), ("Chiny", "Chin"), ("Turcja", "Turcji"), ("Węgry", "Węgier"),
    ("Litwa", "Litwy"), ("Japonia", "Japonii"), ("Izrael", "Izraela"), ("Białoruś", "Białorusi"),
    ("Gruzja", "Gruzji"), ("Mołdawia", "Mołdawii"), ("Indie", "Indii"), ("Iran", "Iranu"),
]

TITLE_PATTERNS = [
    "{short} w {loc}: {that_cap}",
    "{c1} wydala dyplomatów {c2g}. Jest odpowiedź MSZ",
    "Szczyt w {loc}. {short}: {quote}",
    "Napięcie na linii {c1g}–{c2g}. {that_cap}",
    "{short} o relacjach z {c2i}: „{quote}”",
    "Kulisy rozmów w {loc}. {that_cap}",
    "MSZ wzywa ambasadora {c2g}. Chodzi o {topic}",
    "{c1} i {c2} podpisały porozumienie. {that_cap}",
    "Nowy ambasador w {loc}. {short} ujawnia szczegóły",
    "Dzień po spotkaniu w {loc}: {that_cap}",
]

TOPICS = ["incydent na granicy", "zatrzymanie obywatela Polski", "wypowiedź wiceministra",
          "ataki hakerskie", "wstrzymane wizy", "dostawy broni", "ćwiczenia wojskowe",
          "nową ustawę o mediach", "loty balonów nad granicą", "zablokowane tranzyty"]

INSTRUMENTAL = {"Polski": "Polską", "Rosji": "Rosją", "Ukrainy": "Ukrainą", "Niemiec": "Niemcami",
                "Francji": "Francją", "Chin": "Chinami", "Turcji": "Turcją", "Węgier": "Węgrami",
                "Litwy": "Litwą", "Japonii": "Japonią", "Izraela": "Izraelem",
                "Białorusi": "Białorusią", "Gruzji": "Gruzją", "Mołdawii": "Mołdawią",
                "Indii": "Indiami", "Iranu": "Iranem"}

QUESTIONS = [
    "Czy Zachód jest gotów na dłuższą konfrontację z Rosją?",
    "Jak ocenia pan ostatnie decyzje Białego Domu?",
    "Co dla Polski oznacza nowy skład Komisji Europejskiej?",
    "Czy Chiny mogą stać się pośrednikiem w rozmowach pokojowych?",
    "Jakie są dziś priorytety polskiej dyplomacji?",
    "Czy Unia Europejska mówi w tej sprawie jednym głosem?",
]

ANSWERS = [
    "To zależy przede wszystkim od tego, czy utrzymamy jedność. Widzę determinację, ale widzę "
    "też zmęczenie części opinii publicznej.",
    "Ocenia je pan zbyt surowo. Decyzje są ostrożne, ale kierunek pozostaje ten sam.",
    "Przede wszystkim więcej uwagi dla wschodniej flanki, a także dla bezpieczeństwa "
    "energetycznego.",
    "Teoretycznie tak, ale Pekin nie wykazuje woli, by naprawdę zaangażować się w mediację.",
    "Bezpieczeństwo, wsparcie dla Ukrainy i odbudowa relacji z sąsiadami. W tej kolejności.",
    "Nie zawsze. Tam, gdzie potrzebna jest jednomyślność, jeden kraj potrafi zablokować wszystko.",
]

LIST_ITEMS = [
    "wzmocnienie obecności wojsk sojuszniczych na wschodniej flance",
    "przedłużenie sankcji sektorowych wobec Rosji",
    "nowy instrument finansowania zakupów uzbrojenia",
    "wspólne zakupy amunicji dla Ukrainy",
    "ochrona infrastruktury krytycznej na Bałtyku",
    "ułatwienia wizowe dla obywateli Mołdawii",
    "walka z dezinformacją w kampaniach wyborczych",
]

TAGS = ["NATO", "Unia Europejska", "Rosja", "Ukraina", "MSZ", "dyplomacja", "Radosław Sikorski",
        "Chiny", "USA", "sankcje", "Białoruś", "Niemcy", "ONZ", "bezpieczeństwo", "AFD",
        "nielegalna imigracja", "Kaja Kallas", "Węgry", "Izrael", "Bliski Wschód"]

AUTHORS = [  # (id, name)
    (1234, "Jerzy Haszczyński"), (5678, "Michał Szułdrzyński"), (2417, "Andrzej Łomanowski"),
    (3311, "Jędrzej Bielecki"), (4190, "Marek Kozubal"), (2760, "Katarzyna Zuchowicz"),
    (6021, "Mateusz Seidler"), (7055, "Sławomir Dębski"),
]

ONE_LETTER = re.compile(r"(?<![\w<&;/])([wWzZiIaAoOuU]) ")  # not inside tags or entities


def slugify(text: str, limit: int = 90) -> str:
    """rp.pl-style ASCII slug: Polish letters transliterated, punctuation dropped."""
    text = text.replace("ł", "l").replace("Ł", "L")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:limit].rstrip("-")


def nbsp(text_html: str) -> str:
    """Glue one-letter words to the next word, as Polish typesetting (and rp.pl) does."""
    return ONE_LETTER.sub(lambda m: m.group(1) + "&nbsp;", text_html)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


class Writer:
    """Deterministic text source; one per article (seeded by its id).

    `tidy=False` reproduces the text of the first replica version exactly: the default site is
    frozen that way because other suites snapshot its pages (tests/fixtures/pages/replica-*).
    `tidy=True` (generated fillers, added articles) avoids repeated sentences in a paragraph
    and capitalises sentence openings. Markup choices use their own RNG so that they never
    shift the text.
    """

    def __init__(self, seed: int | str, tidy: bool = False):
        self.rng = random.Random(str(seed))
        self.seed = seed
        self.tidy = tidy
        self._markup: random.Random | None = None

    @property
    def markup(self) -> random.Random:
        if self._markup is None:  # built on demand: most writers never need it
            self._markup = random.Random(f"markup:{self.seed}")
        return self._markup

    def person(self):
        return self.rng.choice(PEOPLE)

    def said(self, fem: bool) -> str:
        verb = self.rng.choice(SAID)
        return verb + ("a" if fem else "")

    def sentence(self) -> str:
        r = self.rng
        full, short, fem = self.person()
        loc, gen = r.choice(PLACES)
        kind = r.randrange(7)
        if kind == 0:
            return f"{full} {self.said(fem)}, że {r.choice(THAT)}."
        if kind == 1:
            return f"Jak podaje {r.choice(SOURCES)}, {r.choice(THAT)}."
        if kind == 2:
            return f"Spotkanie w {loc} trwało {r.randint(2, 4)} godziny i zakończyło się " \
                   f"wspólnym oświadczeniem."
        if kind == 3:
            return f"Warto przypomnieć, że {r.choice(FACTS)}."
        if kind == 4:
            return f"W przyszłym tygodniu do {gen} ma przylecieć delegacja " \
                   f"{r.choice(COUNTRIES)[1]}."
        if kind == 5:
            return f"{short} określił{'a' if fem else ''} rozmowy jako " \
                   f"\"{r.choice(['konstruktywne', 'trudne', 'historyczne', 'rzeczowe'])}\"."
        return f"Według {r.choice(['dyplomatów', 'ekspertów', 'rozmówców „Rzeczpospolitej”'])} " \
               f"{r.choice(THAT)}."

    def paragraph(self, n: int | None = None) -> str:
        n = n or self.rng.randint(2, 4)
        if not self.tidy:
            return " ".join(self.sentence() for _ in range(n))
        out: list[str] = []
        for _ in range(n * 5):  # distinct sentences; the pools are small
            s = self.sentence()
            if s not in out:
                out.append(s[0].upper() + s[1:])  # "von der Leyen" opening a sentence
            if len(out) == n:
                break
        return " ".join(out)

    def speech(self) -> str:
        """A paragraph of direct speech; rp.pl opens these with '- ', '– ' or '—'."""
        r = self.rng
        dash = r.choice(["- ", "– ", "— "])
        inner = {"- ": " - ", "– ": " – ", "— ": " — "}[dash]
        full, short, fem = self.person()
        return f"{dash}{r.choice(QUOTES)}{inner}{self.said(fem)} {short}."

    def quoted(self) -> str:
        full, short, fem = self.person()
        return f"„{self.rng.choice(QUOTES)}” – {self.said(fem)} {short}."

    def heading(self) -> str:
        r = self.rng
        return r.choice([
            f"{self.person()[1]}: {r.choice(QUOTES)}",
            f"Co dalej z rozmowami w {r.choice(PLACES)[0]}?",
            f"Reakcja {r.choice(COUNTRIES)[1]}",
            "{}{}?".format(*(lambda t: (t[0].upper(), t[1:]))(r.choice(THAT))),
        ])

    def title(self) -> str:
        r = self.rng
        full, short, fem = self.person()
        loc, _ = r.choice(PLACES)
        (c1, c1g), (c2, c2g) = r.sample(COUNTRIES, 2)
        that = r.choice(THAT)
        return r.choice(TITLE_PATTERNS).format(
            short=short, loc=loc, that_cap=that[0].upper() + that[1:], c1=c1, c2=c2, c1g=c1g,
            c2g=c2g, c2i=INSTRUMENTAL[c2g], quote=r.choice(QUOTES), topic=r.choice(TOPICS))

    def lead(self) -> str:
        return self.paragraph(2)

    def tags(self, k: int | None = None) -> list[str]:
        return self.rng.sample(TAGS, k or self.rng.randint(3, 8))
