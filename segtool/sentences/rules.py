"""A fast, dependency-free, rule-based sentence splitter (the default ``rules``).

Written from scratch for segtool.  It has to be right on the cases pySBD's
"Golden Rules" list (abbreviations, initials, decimals, quotes, ellipses,
lists), good on web, news and legal text, tolerable in other languages, and
fast: tens of MB/s on one core, so it can be the default in front of anything.

Approach
--------
* **One compiled regex finds every candidate.**  It starts with a single
  character class of all terminators (``. ! ? …`` and the CJK, Devanagari,
  Arabic, Ethiopic … ones) so the regex engine stays on its fast scanning
  path.  Its first two branches decide the commonest cases entirely in C:
  "plain word, full stop, whitespace, capital" (a boundary unless the word is
  a known abbreviation, excluded by trie-shaped look-behinds) and "? / !,
  whitespace, capital".  The third branch captures the rest of the terminator
  run (``?!``, ``...``, spaced ``. . .``) and its tail (closing quotes and
  brackets, French spaced ``»``, a heading dash ``.-``, a footnote ``[2]``);
  only these reach Python, and the common ones take a short fast path.
* **Cheap checks at candidates only.**  The token before a full stop is found
  with ``str.rfind`` and classified: never-final abbreviations (titles, "v.",
  "e.g."), abbreviations that end a sentence only before a typical sentence
  opener ("Inc.", "etc.", "U.S.", "a.m."; the sentence must also have 3+
  words), abbreviations that are such only before a number ("No. 5",
  "art. 24", "p. 55"), initials ("J. R. R. Tolkien" vs "you and I. Did"),
  list numbers, German-style ordinals and dates ("am 3. Oktober"), citation
  parts ("12 Vet. App. 247", "Tr. 39"), acronyms written in capitals.  A
  lowercase next word means no boundary, except "?"/"!" after a lowercase word
  ("where did you grow up? india?") and in texts without any capitals.  A
  full stop glued to a capitalised word ("Hello world.Today is …") still ends
  a sentence when the word before is a plain word or number.
* **Ellipses**: "...", "…" and ". . ." end a sentence before a capital, not
  before "I" (hesitation), digits or punctuation; "word. . . . The" is a full
  stop followed by an ellipsis that opens the next sentence; "[...]" is an
  omission mark, never a terminator.
* **Newlines as hints.**  A blank line is always a boundary.  Single line
  breaks are judged by layout: the text is "hard-wrapped" when many breaks fall
  between a word and a lowercase word (estimated on a sample, so a 20 MB book
  costs what a page does).  In wrapped text only breaks after a colon or after
  a short line (a heading, a paragraph's last line) count; otherwise every
  break counts unless the next line starts in lowercase, the line ends with
  ";" or a function word ("On appeal from the\nDepartment …"), or with an
  abbreviation that the full-stop rules keep.
* **Lists.**  A line-initial enumerator ("1.", "a)", "(iv)", "[2]", "1.-",
  "Art. 5º", "§ 2º -") opens a sentence; following the convention of court and
  statute annotation it is a segment of its own when layout marks it as a
  label (blank line before, tab or dash after, statute-style marker).
  Inline sequences ("1. The first item 2. The second item", "i. … ii. …",
  bullets, "a. … b. …", "Fatti: A. … B. …") are split before each next marker.
* Spans are built with :func:`spans_from_ends`, so they tile the text exactly
  and whitespace joins the preceding sentence.

``lang`` adds a few language-specific abbreviations and turns on ordinal
numbers for languages that write them with a full stop (German, Nordic,
Slavic, Hungarian, Turkish …); the base tables already hold English, legal
and common Romance/German abbreviations, since mixed-language input is normal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from segtool.options import Lang
from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span

# ---------------------------------------------------------------------------
# Word lists.  Tokens are compared lower-cased, without their final period,
# leading quotes/brackets and elided articles ("dell'art." -> "art").
# ---------------------------------------------------------------------------

#: Abbreviations that (almost) never end a sentence: titles before a name and
#: reference words before a number.  We never split after these.
_PREFIX = """
mr mrs ms messrs mmes mme mlle mlles dr drs prof profs rev revd hon gen lt col maj capt cpt
cmdr adm sgt cpl pvt gov sen rep reps pres supt insp det fr br mt
n° nº núm num subd subsec cl cf viz vs v e.g i.e approx ca cca op loc
sr sra srta sres dña dª dra dres lic ing arq excmo excma ilmo ilma
sig sigg dott avv geom rag hrn
consid cons lett cpv prel att cit fls fl rel des
""".split()

#: Words that are abbreviations only before a number ("No. 5", "art. 24", "p. 55");
#: elsewhere they are ordinary words ("… or no. The …").
_NUMBER_PREFIX = """
no nos nr nrs art arts fig figs p pp vol vols ch chap sec secs para paras n nn
part doc docs
""".split()

#: Abbreviations that may also end a sentence ("… and Co. It closed", "… in
#: the U.S. How …").  After these we split only before a typical sentence opener.
_AMBIGUOUS = """
etc inc co corp ltd llc plc bros jr esq al st ave blvd rd hwy dept univ assn intl govt mfg est
ft lb lbs oz yd yds mi hr hrs min mins cir ed eds seq ss mm assoc asst natl pct sq orig misc
gmbh ag aprox seg segs
""".split()

#: Like ``_AMBIGUOUS`` but only when capitalised: as lowercase words these are
#: ordinary English ("he was ill.", "on the wash.").  Months, days, US states,
#: reporter and citation words.
_AMBIGUOUS_CAPS = """
jan feb mar apr jun jul aug sep sept oct nov dec
mon tue tues wed thu thur thurs fri sat sun
ala ariz ark calif cal colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo
mont neb nev okla ore pa tenn tex va vt wash wis wyo
supp stat ann civ crim proc evid const amend jur dist div ct cty fed reg pet cert
app aff dep def pls prods tr inst ex exh vet harv rev summ opp mem decl par
""".split()

#: Capitalised words that typically open a sentence.  After an ambiguous
#: abbreviation or a single capital letter we split only before one of these.
_STARTERS = """
the a an this that these those it its he she they we i you his her their our my your
there here what when where why how who whom which whose if in on at as but and or so yet
for from to with by after before during while although though because since unless until
however moreover therefore thus also then now some many most all each every no not both
either neither one two three other such mr mrs ms dr is are was were do does did can could
will would should may might must has have had let please yes still even only just instead
meanwhile furthermore indeed finally first second last next today yesterday tomorrow
nevertheless nonetheless besides otherwise hence accordingly consequently despite under
over about according among between into through without within once whether see
le la les il ils elle elles nous vous on ce cette ces un une du dans pour mais et donc car
der die das ein eine er sie es wir ihr ich und aber wenn dann dies diese auch
el los las lo una uno en pero y ellos ellas este esta estos estas si se
gli uno ma è os um uma mas ele ela eles não
""".split()

#: Extra never-final abbreviations per language (the base lists already cover
#: the common European legal and title abbreviations).
_LANG_PREFIX = {
    "de": "bzw usw vgl ggf evtl bspw inkl exkl zzgl abs str tel hrsg jh jhd bd bde"
          " mio mrd ca max min sog",
    "fr": "ste av bd éd",
    "es": "ud uds pág págs ej vd vds",
    "it": "pag ecc cfr sez",
    "pt": "pág exmo exma ilmo ilma",
    "nl": "blz bijv dhr mevr nr",
}
_ORDINAL_LANGS = frozenset("de da no nb nn fi is et lv sl hr sr cs sk hu tr".split())

#: Month names (lower-cased): "am 3. Oktober", "on the 1. March" are dates, not ends.
_MONTHS = frozenset("""
january february march april may june july august september october november december
januar februar märz april mai juni juli august september oktober november dezember
janvier février mars avril mai juin juillet août septembre octobre novembre décembre
enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre
diciembre gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre
novembre dicembre janeiro fevereiro março abril maio junho julho agosto setembro outubro
novembro dezembro jänner
""".split())

#: Titles that may follow a sentence end although they end in a period themselves.
_TITLE_STARTERS = frozenset("mr mrs ms dr prof".split())
#: Abbreviations still read as such when written in capitals ("MR. JUSTICE CLARK").
_CAPS_ABBR = frozenset("mr mrs messrs dr drs prof st mt jr sr gen gov sen rep hon rev".split())

#: Words after which a line cannot end a sentence ("On appeal from the\nDepartment …").
_CONTINUERS = """
the a an of to in on at by for from with and or but nor as than that which who whose
de del la le les el los las des du et und der die das den dem von zu mit e o di da do
""".split()

# Terminators.  "Latin" ones need whitespace (or the end of the text) after
# them; "strong" ones (CJK, Devanagari danda, Arabic question mark, Ethiopic
# full stop …) end a sentence wherever they stand.
_LATIN_TERM = ".!?…‼⁇⁈⁉"
_STRONG_TERM = "。！？｡।॥؟۔።፧։။។"
_CLOSERS = "\"'”’“‘»›)]}」』）】〉》〕］｝"
_OPENERS = "\"'“‘„«‹([{¿¡「『（【〈《〔［｛"
_BULLETS = "•‣⁃◦▪▫●○■□◆◇►▶"
_DASHES = "-–—"

_ALL_TERM_CLASS = re.escape(_LATIN_TERM + _STRONG_TERM)
_TERM_TAIL = (
    # closing quotes/brackets glued to a terminator; French spaced » (or a
    # spaced closing " before a line end); a heading dash ("SEGUNDO.-"); a
    # footnote mark ("[2]")
    rf"[{re.escape(_CLOSERS)}]*(?:[ \u00a0\u202f](?:[»›]|[\"”](?=\s|\Z)))?"
    r"(?:-(?=\s))?(?:\[(?:\d{1,3}|\*)\])?"
)


def _trie_regex(words: list[str]) -> str:
    """A regex matching exactly ``words``, factored by common prefixes.

    The engine then compares each character once instead of trying every
    word in turn, which matters inside the look-behinds of the hot regex.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        parts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            parts.append("")
        if len(parts) == 1:
            return parts[0]
        return "(?:" + "|".join(parts) + ")"

    return emit(trie)


@lru_cache(maxsize=8)
def _term_regex(abbreviations: frozenset[str], capitalised: frozenset[str]) -> re.Pattern[str]:
    """The candidate regex: every terminator, with the two commonest cases decided in C.

    All branches start after one leading character class, which keeps the regex
    engine on its fast scanning path.  Branch 1 (group 1) is "plain word of 3+
    lowercase letters (or a capitalised one of 6+), full stop, whitespace,
    capital": a boundary unless the word is one of ``abbreviations`` (or, when
    capitalised, of ``capitalised``), excluded by look-behinds grouped by
    length, or looks like a roman numeral.  Branch 2 (group 2) is "?" or "!" followed by whitespace and a
    capital.  An opening quote may come before the capital.  Branch 3 is
    everything else: group 3 is the rest of the terminator run (a spaced
    ellipsis ". . ." included) and group 4 the tail, then optional whitespace
    (required after Latin terminators; the caller checks).
    """
    by_len: dict[int, set[str]] = {}
    for word in abbreviations | capitalised:
        if len(word) >= 3 and word.isalpha() and word.isascii():
            # lowercase, plus the capitalised form where branch 1 can see it (6+ letters)
            forms = {word} if word in abbreviations else set()
            if len(word) >= 6:
                forms.add(word.capitalize())
            if forms:
                by_len.setdefault(len(word), set()).update(forms)
    not_abbr = "".join(
        rf"(?<!\b{_trie_regex(sorted(words))}\.)" for _, words in sorted(by_len.items())
    )
    closers = re.escape("\"'”’“‘»›)]}")
    return re.compile(
        rf"[{_ALL_TERM_CLASS}](?:"
        rf"(?<=[a-z]{{3}}\.)(?<![A-Z][a-z]{{3}}\.)(?<![A-Z][a-z]{{4}}\.)(?<![ivxlc]{{3}}\.)"
        rf"{not_abbr}[{closers}]*\s+(?=[\"“‘']?[A-Z])()"
        rf"|(?<=[^\s.!?…][!?])[{closers}]*\s+(?=[\"“‘']?[A-Z])()"
        # possessive: nothing after the run can fail, so this never changes a match,
        # but a plain ``(?:…|…)*`` keeps a backtracking record per character (a
        # 10 MB run of "?" took 12 s and 1.9 GB)
        rf"|((?:[{re.escape(_LATIN_TERM)}]++|[ \u00a0]\.(?=[\s.{re.escape(_CLOSERS)}]|\Z))*+)"
        rf"({_TERM_TAIL})\s*)"
    )


_PARA_RX = re.compile(r"\n[^\S\n]*\n\s*")
_PARA_SEP_RX = re.compile(r"\u2029\s*")
# a single line break followed by a non-blank line (the text of the line is at m.end())
_NL_RX = re.compile(r"\n[^\S\n]*(?=\S)")
_COLON_NL_RX = re.compile(r":[^\S\n]*\n[^\S\n]*(?=\S)")
# enumerator and/or bullet at the start of a line
_MARK = (
    rf"(?:(?P<b>[{_BULLETS}]|[-–*](?=[^\S\n]))(?:[^\S\n]++)?)?(?:"
    r"(?P<q>[«\"“]?)(?P<o>\(?)(?P<v>\d{1,3}|[A-Za-z]|[IVXLC]{2,6}|[ivxlc]{2,6})"
    r"(?P<s>\.\)|\.-|\.º|\.°|\.|\))"
    r"|(?P<x>\[(?:\d{1,3}|\*)\]|\*\d{1,4}|\d{1,3}(?=\t)"
    r"|(?:Art(?:igo|ículo|icolo)?\.?|§{1,2})[^\S\n]*\d{1,4}(?:[º°]|(?=[^\S\n]+[-–])))"
    r")?"
)
_LINE_MARK = (
    # (the lookahead is a cheap filter: most lines start with an ordinary word)
    rf"(?P<pre>[^\S\n]*+)(?=[\d(\[*«\"“§{_BULLETS}\-–]|[A-Za-z](?:[.)]|rt)|[IVXLCivxlc]+[.)])"
    rf"{_MARK}(?<=\S)(?P<dash>[^\S\n]+[-–](?=[^\S\n]))?(?P<sep>[^\S\n])"
)
_START_MARK_RX = re.compile(rf"\s*+{_MARK}(?<=\S)(?=[^\S\n])")
_NEXT_WORD_RX = re.compile(r"[\"'“‘«(\[]*([^\W\d_]+)([.,)]?)")
_NUMBERISH_RX = re.compile(r"[\d§¶]|[IVXLC]{1,6}\b")
_GLUED_NEXT_RX = re.compile(r"[A-Z][a-z]+(?=[\s.,;:!?]|\Z)")
_GLUED_NUMBER_RX = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_NEXT_ABBR_RX = re.compile(r"[^\W\d_][^\W\d_]{0,4}\.")
_ROMAN_RX = re.compile(r"[IVXLC]{1,6}|[ivxlc]{1,6}")
_INITIALISM_RX = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")
_LOWERNEXT_RX = re.compile(r"\n(?<=[^\s.!?:;]\n)[^\S\n]*[a-zß-öø-ÿ]")
# a line break after a word (or a closing bracket) whose next line does not
# start in lowercase: in wrapped text, the only line breaks worth a closer look
_WORD_NL = r"(?:(?<=[\w)\]\"”»]\n)|(?<=[\w)\]\"”»][ \t\r]\n))[^\S\n]*(?=\S)(?![a-zß-öø-ÿ])"
_WORD_NL_RX = re.compile(rf"\n{_WORD_NL}")
# One pass over the line breaks finds both kinds of interesting line starts: a
# list marker (named groups of _MARK) or, when group "nl" is set, a plain line
# break of the kind the current layout cares about.
_WRAPPED_NL_RX = re.compile(rf"\n(?:{_LINE_MARK}|{_WORD_NL}(?P<nl>))")
_LINES_NL_RX = re.compile(rf"\n(?:{_LINE_MARK}|[^\S\n]*(?=\S)(?P<nl>))")

_PREFIX_SET = frozenset(_PREFIX)
_NUMBER_PREFIX_SET = frozenset(_NUMBER_PREFIX)
_AMBIG_SET = frozenset(_AMBIGUOUS)
_AMBIG_CAPS_SET = frozenset(_AMBIGUOUS_CAPS)
_STARTER_SET = frozenset(_STARTERS)
_CONTINUER_SET = frozenset(_CONTINUERS)
_TOKEN_STRIP = _OPENERS + _BULLETS + _DASHES + "_*"
_CLOSER_STRIP = ")]}\"'”’»"
_LATIN_TERM_SET = frozenset(_LATIN_TERM)
_QM_SET = frozenset("!?‼⁇⁈⁉")
_NO_SPLIT_NEXT = frozenset(",;:)]}|" + _DASHES)


def _layout(text: str, paragraphs: int) -> tuple[bool, int]:
    """Is the text hard-wrapped (lines broken mid-sentence), and at what width?

    Looks at a sample only, so a 20 MB book costs the same as a page.  A text
    is "wrapped" when a good share of its line breaks fall between a word and a
    lowercase word; the width is estimated from the mean line length.
    ``paragraphs`` is the number of blank-line breaks in ``text``.
    """
    n = len(text)
    if n > 120_000:
        mid = n // 2
        sample = text[:40_000] + "\n\n" + text[mid:mid + 40_000] + "\n\n" + text[-40_000:]
        paragraphs = len(_PARA_RX.findall(sample))
    else:
        sample = text
    breaks = sample.count("\n") - 2 * paragraphs
    if breaks < 3:
        return False, 0
    wraps = len(_LOWERNEXT_RX.findall(sample))
    if wraps < 3 or wraps < 0.2 * breaks:
        return False, 0
    # mean line length, a little above it since paragraphs end in short lines
    return True, int(1.3 * len(sample) / (sample.count("\n") + 1))


def _own_segment(text: str, m: re.Match[str]) -> bool:
    """Legal convention: is this line-initial enumerator a segment of its own?

    Court decisions and statutes annotate "1.", "I.", "[2]", "*868", "1.-" or
    "Art. 5º" at the start of a paragraph as separate units, while news lists
    ("\\n1. Buy a new car.") keep the number with the item.  The cue that
    separates them in practice is layout: a blank line before the marker, a
    tab or a dash after it, or a statute-style marker ("1.-", "2.º", "a)").
    """
    if m.group("b") or not (m.group("v") or m.group("x")):
        return False
    after = m.end()
    while after < len(text) and text[after] in " \t\u00a0":
        after += 1
    if after >= len(text) or not (text[after].isupper() or text[after] in "¿¡«\"“"):
        return False
    if m.group("x") or m.group("dash") or text[m.start("sep")] == "\t":
        return True
    if m.group("s") in (".-", ".º", ".°", ")"):
        return True
    before = text[max(0, m.start() - 8):m.start()]
    return "\n" in before and not before[before.rfind("\n") + 1:].strip()


_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
          "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx"]


def _successors(v: str) -> list[str]:
    """The labels that may follow list label ``v``: "2" after "1", "b" after "a", "ii" after "i"."""
    if v.isdigit():
        return [str(int(v) + 1)]
    found = []
    low = v.lower()
    if low in _ROMAN[:-1]:
        nxt = _ROMAN[_ROMAN.index(low) + 1]
        found.append(nxt if v.islower() else nxt.upper())
    if len(v) == 1 and v.isalpha() and v not in "zZ":
        found.append(chr(ord(v) + 1))
    return found


class _Rules:
    """The splitting rules with their word tables (one instance per splitter)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        base = lang.lower().replace("_", "-").split("-")[0]
        extra = frozenset(_LANG_PREFIX.get(base, "").split())
        self.prefix = _PREFIX_SET | extra
        self.ambig = _AMBIG_SET
        self.starters = _STARTER_SET
        # languages that write ordinal numbers with a full stop ("am 3. Oktober")
        self.ordinals = base in _ORDINAL_LANGS
        self.ambig_caps = _AMBIG_CAPS_SET
        self.all_abbr = self.prefix | _AMBIG_SET | _NUMBER_PREFIX_SET
        self.all_abbr_caps = self.all_abbr | _AMBIG_CAPS_SET
        self.term_rx = _term_regex(self.all_abbr, _AMBIG_CAPS_SET)

    # -- public -------------------------------------------------------------

    def ends(self, text: str) -> list[int]:
        n = len(text)
        ends: list[int] = [m.end() for m in _PARA_RX.finditer(text)]
        paragraphs = len(ends)
        if "\u2029" in text:  # PARAGRAPH SEPARATOR: a blank line in one character
            ends += [m.end() for m in _PARA_SEP_RX.finditer(text)]
        lower_doc = text.islower()
        starts: set[int] = set()  # token positions known to open a sentence (list items)
        m0 = _START_MARK_RX.match(text)
        if m0:
            self._inline_list(text, m0, ends, starts)
        if "\n" in text:
            self._line_ends(text, ends, starts, lower_doc, paragraphs)
        self._terminator_ends(text, n, ends, starts, lower_doc)
        return ends

    # -- lines ----------------------------------------------------------------

    def _line_ends(
        self, text: str, ends: list[int], starts: set[int], lower_doc: bool, paragraphs: int
    ) -> None:
        # (a text without capitals gives no lowercase-continuation evidence)
        wrapped, width = _layout(text, paragraphs) if not lower_doc else (False, 0)
        append = ends.append
        if wrapped:
            # hard-wrapped text: a line break means something only after a
            # colon or a short line (a heading, the last line of a paragraph)
            for m in _COLON_NL_RX.finditer(text):
                if not text[m.end()].islower():
                    append(m.end())
            short = max(1, int(width * 0.7))
            for m in _WRAPPED_NL_RX.finditer(text):
                if m.group("nl") is None:
                    m = self._marker_line(text, m, ends, starts, _WORD_NL_RX)
                    if m is None:
                        continue
                p = m.start()
                line = text[max(0, p - short - 1):p]
                k = line.rfind("\n")
                if k < 0 and p > short:
                    continue  # a full-width line: the sentence runs on
                line = line[k + 1:].rstrip()
                if line:
                    self._maybe_line_break(text, line, m.end(), ends, lower_doc, False)
        else:
            for m in _LINES_NL_RX.finditer(text):
                if m.group("nl") is None:
                    m = self._marker_line(text, m, ends, starts, _NL_RX)
                    if m is None:
                        continue
                p = m.start()
                line = text[max(0, p - 40):p]
                line = line[line.rfind("\n") + 1:].rstrip()
                if line:  # (after a blank line the paragraph rule has split already)
                    self._maybe_line_break(text, line, m.end(), ends, lower_doc, True)

    def _marker_line(
        self, text: str, m: re.Match[str], ends: list[int], starts: set[int],
        plain: re.Pattern[str],
    ) -> re.Match[str] | None:
        """Handle a line that starts with a list marker; return the plain line-break match."""
        if _own_segment(text, m):
            ends.append(m.start("sep"))
        self._inline_list(text, m, ends, starts)
        return plain.match(text, m.start())

    def _maybe_line_break(
        self, text: str, line: str, nxt: int, ends: list[int], lower_doc: bool, by_line: bool,
    ) -> None:
        """Decide a single line break; ``line`` ends with the last non-space before it."""
        last = line[-1]
        if text[nxt].islower() and not lower_doc and not (by_line and last in _LATIN_TERM_SET):
            # a lowercase line start continues the sentence, unless the text is
            # written one sentence per line and this line ended with a terminator
            return
        if last == ";":
            return
        if last.isalpha():
            k = line.rfind(" ")
            if line[k + 1:].lower() in _CONTINUER_SET:
                return
        elif last in _LATIN_TERM_SET or last in _CLOSER_STRIP:
            # the full-stop rules decide (a newline is just whitespace to them),
            # except that a line break is a boundary they would not see
            k = max(line.rfind(" "), line.rfind("\t"))
            word = line[k + 1:].rstrip(".").lstrip(_TOKEN_STRIP).lower()
            if word in self.prefix or len(word) == 1:
                return
        ends.append(nxt)

    def _inline_list(self, text: str, m: re.Match[str], ends: list[int], starts: set[int]) -> None:
        """Lines like "1. The first item 2. The second item": split before each next marker."""
        line_end = text.find("\n", m.end())
        if line_end < 0:
            line_end = len(text)
        bullet = m.group("b")
        if bullet:
            pos = m.end()
            while True:
                k = text.find(" " + bullet, pos, line_end)
                if k < 0:
                    return
                pos = k + 2
                item = text[pos:pos + 8].lstrip(" \t")
                if item[:1].isupper() or item[:1].isdigit():
                    ends.append(k + 1)  # "• 9. The first item • 10. The second item"
                    starts.add(k + 1)
        v = m.group("v")
        if not v:
            return
        o, s = m.group("o"), m.group("s")
        pos = m.end()
        n = len(text)
        while True:
            for nxt in _successors(v):
                marker = f" {o}{nxt}{s}"
                k = text.find(marker, pos, line_end)
                after = k + len(marker)
                if k >= 0 and (after >= n or text[after].isspace()):
                    break
            else:
                return
            ends.append(k + 1)
            starts.add(k + 1)
            v, pos = nxt, after

    # -- terminators ----------------------------------------------------------

    def _terminator_ends(
        self, text: str, n: int, ends: list[int], starts: set[int], lower_doc: bool
    ) -> None:
        append = ends.append
        last = 0  # last boundary emitted here, for "is this token sentence-initial?"
        letter = [""]  # next expected letter of an "A. … B. …" enumeration
        all_abbr, all_abbr_caps = self.all_abbr, self.all_abbr_caps
        for m in self.term_rx.finditer(text):
            if m.lastindex < 3:
                e = m.end()  # decided by the regex: "… word. The …", "… why? The …"
                append(e)
                last = e
                continue
            i, e = m.span()
            if e >= n:
                return
            c = text[i]
            if c not in _LATIN_TERM_SET:
                append(e)  # strong terminator: a boundary wherever it stands
                last = e
                continue
            if not text[e - 1].isspace():
                # "3.14", "U.S.A", "e.g.,": no whitespace after the terminator;
                # but "Hello world.Today is …" lost its space
                if e == i + 1 and c == "." and e < n and self._glued_sentence(text, i, e):
                    append(e)
                    last = e
                continue
            nx = text[e]
            run_end = m.end(3)
            if nx.islower() and not lower_doc:
                if text[run_end - 1] in _QM_SET and not m.group(4) and self._lower_word_before(
                        text, i):
                    append(e)  # "what does that mean? where did you grow up?"
                    last = e
                continue
            if run_end == i + 1:
                if c == ".":
                    # one full stop.  Fast path: after a plain word that is no
                    # abbreviation, a sentence ends (the next does not start in
                    # lowercase, checked above).  Everything else: the full rules.
                    j = text.rfind(" ", i - 40 if i > 40 else 0, i) + 1
                    tok = text[j:i] if j else ""
                    if not tok.isalpha():
                        tok = tok[tok.rfind("\n") + 1:]  # a word at the start of a line
                    if tok.isalpha() and nx not in _DASHES and (
                        (tok.islower() and len(tok) > 1 and tok.strip("ivxlc")
                         and tok not in all_abbr)
                        or (len(tok) > 5 and not nx.isdigit() and tok.lower() not in all_abbr_caps)
                    ):
                        if nx not in _NO_SPLIT_NEXT:
                            append(e)
                            last = e
                        continue
                    b = self._period_boundary(
                        text, i, e, nx, last, starts, lower_doc, m.group(4), ends, letter)
                    if b:
                        append(b)
                        last = b
                    continue
                if c != "…":
                    if nx not in _NO_SPLIT_NEXT:  # "?" or "!"
                        append(e)
                        last = e
                    continue
            run = text[i:run_end]
            if ("." not in run and "…" not in run) or any(ch in _QM_SET for ch in run):
                if nx not in _NO_SPLIT_NEXT:
                    append(e)
                    last = e
                continue
            b = self._ellipsis_boundary(text, i, run_end, e, nx, run)
            if b:
                append(b)
                last = b

    def _ellipsis_boundary(self, text: str, i: int, run_end: int, e: int, nx: str, run: str) -> int:
        """Where (if anywhere) a run of several dots ends a sentence; 0 for nowhere."""
        dots = run.count(".")
        spaced = " " in run or "\u00a0" in run
        attached = i > 0 and not text[i - 1].isspace()
        if dots == 1 and "…" not in run:
            return e
        if i > 0 and text[i - 1] in "[(" and text[run_end:run_end + 1] in "])":
            return 0  # "[...]": an omission mark, not a terminator
        if nx in _NO_SPLIT_NEXT or nx.isdigit():
            return 0
        if spaced and attached and dots >= 4 and text[i + 1] in " \u00a0":
            return i + 1  # "compounds. . . . The": a full stop, then an ellipsis opening the next
        if dots >= 4:
            return e
        pronoun_i = nx == "I" and text[e + 1:e + 2] in (" ", "'", "’")
        if pronoun_i:
            return 0  # "the thing is . . . I didn't": hesitation, not an end
        return e

    def _period_boundary(
        self, text: str, i: int, e: int, nx: str, last: int, starts: set[int], lower_doc: bool,
        tail: str, ends: list[int], letter: list[str],
    ) -> int:
        """Where the full stop at ``i`` (then whitespace, then ``nx``) ends a sentence; 0: no."""
        if nx in _NO_SPLIT_NEXT and nx not in _DASHES:
            return 0
        lo = i - 64 if i > 64 else 0
        j = text.rfind(" ", lo, i) + 1
        if j == 0:
            j = lo
        tok = text[j:i]
        k = max(tok.rfind("\n"), tok.rfind("\t"))
        if k >= 0:
            tok = tok[k + 1:]
            j += k + 1
        core = tok.lstrip(_TOKEN_STRIP)
        j += len(tok) - len(core)
        if not core:
            return e
        if core[-1] in _CLOSER_STRIP:
            return e  # "(S.D.N.Y. 1998)." – a bracket or quote closed before the stop
        if tail and tail[0] == "-":
            if len(core) == 1 and core.isupper() and self._sentence_initial(
                    text, j, last, starts):
                return self._letter_item(text, j, e, core, ends, letter, True)
            return e  # "SEGUNDO.- Tramitación": a heading label ends here
        apo = max(core.rfind("'"), core.rfind("’"))
        if apo > 0 and apo < len(core) - 1:
            core = core[apo + 1:]  # elision: "dell'art." -> "art"
        low = core.lower()
        digit_next = nx.isdigit()
        if nx in _DASHES and not self._dash_opens(text, e):
            return 0
        if low in _NUMBER_PREFIX_SET:
            if _NUMBERISH_RX.match(text, e):
                return 0
        elif core.isupper() and len(core) > 1 and low not in _CAPS_ABBR and not digit_next:
            pass  # "del MS. Por su parte": an acronym, not an abbreviation
        elif low in self.prefix:
            return 0
        elif low in self.ambig or (low in self.ambig_caps and core[0].isupper()):
            if digit_next or not self._starter_follows(text, e):
                return 0
            return e if text.count(" ", max(last, i - 300), i) >= 3 else 0
        if "." in low:
            if _INITIALISM_RX.fullmatch(low):
                if digit_next or not self._starter_follows(text, e):
                    return 0
                return e if text.count(" ", max(last, i - 300), i) >= 3 else 0
            if low[0].isdigit() or "@" in low or "/" in low:
                return e if not digit_next else 0
            return e if self._starter_follows(text, e) else 0
        if core.isdigit():
            if digit_next:
                return 0
            if len(core) <= 3:
                if self._sentence_initial(text, j, last, starts):
                    return 0  # "1. The first item": a list number
                if self._month_follows(text, e):
                    return 0  # "am 3. Oktober", "le 1. janvier"
                if self.ordinals and not self._starter_follows(text, e):
                    return 0  # German ordinals: "der 2. Weltkrieg"
            return e
        if len(core) == 1:
            if digit_next:
                return 0
            initial = self._sentence_initial(text, j, last, starts)
            if core.isupper():
                if initial:
                    return self._letter_item(text, j, e, core, ends, letter, False)
                return e if self._starter_follows(text, e) else 0
            if initial:
                return 0
            return e if not lower_doc or self._starter_follows(text, e) else 0
        if _ROMAN_RX.fullmatch(core) and self._sentence_initial(text, j, last, starts):
            return 0
        if core[0].isupper() and len(core) <= 5 and core.isalpha():
            # short capitalised words before a number or another abbreviation
            # are citation parts: "Tr. 39", "12 Vet. App. 247", "Ex. F."
            if digit_next or self._abbrev_follows(text, e):
                return 0
        elif digit_next and not (core.isalpha() and core.islower()):
            return 0
        return e

    @staticmethod
    def _letter_item(
        text: str, j: int, e: int, core: str, ends: list[int], letter: list[str], dashed: bool
    ) -> int:
        """A sentence-initial capital letter: an "A. … B. …" item label, or a name's initial.

        A list starts with "A." after a colon ("Fatti: A. Dopo …"), at the start
        of the text, or as "A.-"; later letters must follow in sequence.
        """
        before = text[max(0, j - 4):j].rstrip()
        labelled = dashed or not before or before[-1] == ":"
        if core != letter[0] and not (core == "A" and labelled):
            return 0  # "… anything.\" A. Donald Anderson": an initial
        word = _NEXT_WORD_RX.match(text, e)
        if not word or word.group(2) or not word.group(1)[0].isupper():
            return 0
        letter[0] = chr(ord(core) + 1)
        if before.endswith(":"):
            # "Fatti: A. Dopo …": the heading before the colon is a segment too
            ends.append(j)
        return e

    def _starter_follows(self, text: str, e: int) -> bool:
        word = _NEXT_WORD_RX.match(text, e)
        if not word:
            return False
        w = word.group(1).lower()
        after = word.group(2)
        if after == ".":
            return w in _TITLE_STARTERS
        if after and len(w) == 1:
            return False  # "Ex. A, at 85": a label, not the article
        return w in self.starters

    def _glued_sentence(self, text: str, i: int, e: int) -> bool:
        """"world.Today", "Tuesday.Mr. Smith", "1,000.That": a sentence glued to the next."""
        word = _GLUED_NEXT_RX.match(text, e)
        if not word:
            return False
        j = text.rfind(" ", max(0, i - 40), i) + 1
        tok = text[j:i].lstrip(_TOKEN_STRIP)
        if tok.isalpha():
            low = tok.lower()
            if low in self.all_abbr_caps or len(tok) < 2:
                return False
            return tok.islower() or (tok[0].isupper() and tok[1:].islower() and len(tok) >= 4)
        return bool(_GLUED_NUMBER_RX.fullmatch(tok))

    @staticmethod
    def _lower_word_before(text: str, i: int) -> bool:
        """Is the token before position ``i`` an all-lowercase word ("india?", not "Yahoo!")?"""
        j = text.rfind(" ", max(0, i - 40), i) + 1
        word = text[j:i]
        return word.isalpha() and word.islower()

    @staticmethod
    def _dash_opens(text: str, e: int) -> bool:
        """After "word. -- ": does a new sentence follow the dash?"""
        k = e
        n = len(text)
        while k < n and (text[k] in _DASHES or text[k] in " \t\u00a0"):
            k += 1
        return k < n and text[k].isupper()

    @staticmethod
    def _month_follows(text: str, e: int) -> bool:
        word = _NEXT_WORD_RX.match(text, e)
        return bool(word) and word.group(1).lower() in _MONTHS

    def _abbrev_follows(self, text: str, e: int) -> bool:
        word = _NEXT_ABBR_RX.match(text, e)
        return bool(word) and word.group()[:-1].lower() not in _TITLE_STARTERS

    @staticmethod
    def _sentence_initial(text: str, j: int, last: int, starts: set[int]) -> bool:
        """Is the token starting at ``j`` the first token of its sentence?"""
        if j <= last or j in starts:
            return True
        before = text[max(0, j - 8):j]
        stripped = before.rstrip()
        if not stripped:
            return True
        if "\n" in before[len(stripped):]:
            return True
        ch = stripped[-1]
        return ch in ":;" or ch in _BULLETS


@dataclass(frozen=True)
class RulesOptions:
    lang: Lang = "en"


class RulesSplitter(BaseSplitter):
    """Fast rule-based splitter: abbreviations, numbers, initials, quotes, lists, newlines."""

    name: ClassVar[str] = "rules"
    summary: ClassVar[str] = (
        "Fast dependency-free rules (abbreviations, initials, quotes, lists, newlines, "
        "CJK/Indic/Arabic terminators); the default splitter."
    )
    Options = RulesOptions

    def setup(self) -> None:
        self.lang = self.options.lang
        self._rules = _Rules(self.lang)

    def split(self, text: str) -> list[Span]:
        if not text:
            return []
        return spans_from_ends(text, self._rules.ends(text))
