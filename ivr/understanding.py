"""What did the caller mean?  Pure speech/keypad understanding for the call engine.

No Flask, no TwiML, no I/O: `understand()` maps one Gather result (SpeechResult,
Confidence, Digits) plus the kind of question that was asked to one intent.  Matchers
are compiled once at import.

How an utterance is read
------------------------
1. Normalise: lower case, accents folded, contractions expanded ("won't" -> "will not",
   also the recogniser's apostrophe-less "wont", "didnt"...), "j1772" split into "j 1772".
2. Correct: known recogniser mishearings of our words ("stock"/"stack"/"struck" -> stuck,
   a leading "know" -> no, a bare "now" -> no) and, for longer unknown tokens only, a
   strict `rapidfuzz` match against our own vocabulary ("jamed" -> jammed, "operater" ->
   operator).  Short words are never fuzzed: "now"/"no", "hot"/"not" are one edit apart.
   Release words are never fuzz targets: a release must be heard, not inferred.
3. Commands, in priority order: hazard > agent > wait > repeat > back > help > spanish.
   A hazard word anywhere wins, and negation never cancels it (see HAZARD below).
4. The answer to the question asked (`expecting`), with negation scope ("not stuck
   anymore" is released, "it won't budge" is still stuck) and contradictions resolved
   in favour of content over a bare yes/no ("yes, it's still stuck" is still stuck) and
   of stuck over released when both are said.
5. Nothing recognisable, or too much we can't explain around a bare "yeah": "unclear",
   so the engine asks again.

Certainty
---------
The costliest mistake is ending the call while the connector is still in the car, so a
`released` is `certain` only when it is a clear release phrase ("yes it came out", "it
popped out", key 1) at Confidence >= RELEASE_CONFIDENCE (0.6), with no word that one
mishearing could flip ("will"/"won't", "not", "no", "still", "did", "can", "stuck"...),
no correction applied, no negation reversal ("not stuck anymore"), no bare yes/got it/
done, and little unexplained speech.  A missing Confidence counts as low (the engine
then spends one short confirming question, which is cheap).  0.6: Twilio's phone-call
recognisers report 0.8-0.95 for clean short answers and fall below ~0.5 on noise and
cross-talk; 0.6 keeps normal answers certain while sending doubtful ones to a confirm.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from . import reader
from .vocabulary import Vocabulary

__all__ = ["INTENTS", "EXPECTATIONS", "Understanding", "understand", "hints",
           "RELEASE_CONFIDENCE"]

INTENTS = ("yes", "no", "released", "still_stuck", "repeat", "back", "wait", "help",
           "agent", "hazard", "connector_ccs", "connector_chademo", "connector_j1772",
           "connector_tesla", "connector_unsure", "spanish", "unclear", "silence")
EXPECTATIONS = ("yes_no", "released", "connector", "any")

#: Below this Confidence (or without one) a "released" is never certain.
RELEASE_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Understanding:
    intent: str        # one of INTENTS, or language_<tag> (another language asked for)
    certain: bool      # False => the engine confirms before acting on 'released'
    heard: str         # what was said/pressed, normalised, for the records ("" on silence)


# ---------------------------------------------------------------------------------------
# Keypad

_GLOBAL_KEYS = {"0": "agent", "*": "repeat", "#": "wait", "9": "spanish"}
_ANSWER_KEYS = {
    "yes_no": {"1": "yes", "2": "no"},
    "any": {"1": "yes", "2": "no"},
    "released": {"1": "released", "2": "still_stuck"},
    "connector": {"1": "connector_ccs", "2": "connector_chademo", "3": "connector_j1772",
                  "4": "connector_tesla", "5": "connector_unsure"},
}


def _key_intent(key: str, expecting: str) -> str:
    if key in _GLOBAL_KEYS:
        return _GLOBAL_KEYS[key]
    return _ANSWER_KEYS.get(expecting, _ANSWER_KEYS["any"]).get(key, "unclear")


# ---------------------------------------------------------------------------------------
# Normalising

_CONTRACTIONS = {
    "won't": "will not", "wont": "will not", "can't": "can not", "cant": "can not",
    "cannot": "can not", "don't": "do not", "dont": "do not", "doesn't": "does not",
    "doesnt": "does not", "didn't": "did not", "didnt": "did not", "isn't": "is not",
    "isnt": "is not", "aren't": "are not", "arent": "are not", "wasn't": "was not",
    "wasnt": "was not", "weren't": "were not", "hasn't": "has not", "hasnt": "has not",
    "haven't": "have not", "havent": "have not", "hadn't": "had not", "couldn't": "could not",
    "couldnt": "could not", "wouldn't": "would not", "wouldnt": "would not",
    "shouldn't": "should not", "ain't": "is not", "aint": "is not", "it's": "it is",
    "its": "it is", "that's": "that is", "thats": "that is", "there's": "there is",
    "theres": "there is", "what's": "what is", "whats": "what is", "i'm": "i am",
    "im": "i am", "i've": "i have", "ive": "i have", "i'd": "i would", "i'll": "i will",
    "it'll": "it will", "you're": "you are", "they're": "they are", "we're": "we are",
    "let's": "let us", "gimme": "give me", "gotta": "got to", "wanna": "want to",
    "dunno": "do not know", "nothing's": "nothing is", "he's": "he is", "she's": "she is",
    "here's": "here is", "where's": "where is", "c'mon": "come on", "y'all": "you all",
    "'cause": "because", "cuz": "because", "s'il": "s il",
}

_NUMBER_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four",
                 "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine"}


def _heard(text: str) -> str:
    """The record form: lower case, punctuation dropped, spaces collapsed, accents kept."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'").replace("`", "'")
    text = re.sub(r"[^\w'\s]", " ", text)
    return " ".join(text.split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _tokens(heard: str) -> list[str]:
    text = _fold(heard).replace("_", " ")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)   # j1772 -> j 1772
    out: list[str] = []
    for tok in text.split():
        tok = tok.strip("'")
        if not tok:
            continue
        if tok in _CONTRACTIONS:
            out.extend(_CONTRACTIONS[tok].split())
        elif tok.endswith("n't"):
            out.extend([tok[:-3], "not"])
        elif tok.endswith("'s") or tok.endswith("'re") or tok.endswith("'ll"):
            out.append(tok.split("'")[0])
        else:
            out.append(tok.replace("'", ""))
    return out


# ---------------------------------------------------------------------------------------
# Correcting recogniser mishearings

# Unambiguous recogniser spellings of our words (context-free).
_MISHEARD = {
    "stock": "stuck", "stack": "stuck", "struck": "stuck", "stuk": "stuck", "stucked": "stuck",
    "stocked": "stuck", "stuckk": "stuck", "jamb": "jammed", "jamd": "jammed",
    "yep": "yes", "yup": "yes", "yah": "yes", "ya": "yes", "yea": "yes", "yeah": "yes",
    "yeh": "yes", "yess": "yes", "yas": "yes", "yap": "yes",
    "nope": "no", "nah": "no", "naw": "no", "nay": "no", "noo": "no", "nooo": "no",
    "unplug": "unplugged", "okey": "okay", "ok": "okay", "alright": "okay",
    "nax": "nacs", "knacks": "nacs", "nacks": "nacs", "naks": "nacs", "nacs": "nacs",
    "tessla": "tesla", "teslas": "tesla", "tesler": "tesla",
    "espanol": "espanol", "espaniol": "espanol", "spanish": "spanish",
    "agents": "agent", "operators": "operator", "humans": "human",
}

# Long words we fuzzy-match unknown tokens to (>= 5 letters, strict cutoff).  No release
# words here on purpose: "plugged" is one edit from "unplugged".
_FUZZ_TARGETS = (
    "stuck", "jammed", "locked", "wedged", "trapped", "seized",
    "connector", "chademo", "combo", "tesla", "supercharger", "japanese",
    "operator", "representative", "agent", "human", "person", "somebody", "someone",
    "customer", "service", "support", "supervisor",
    "smoking", "electrocuted", "overheating", "overheated",
    "repeat", "pardon", "previous", "options", "spanish", "espanol", "moment", "second",
    "minute", "budge", "budging",
)
# Real words close to a target that must stay what they are.
_NEVER_FUZZ = frozenset("""
plugged plug plugs turning turned meeting looked lucked parks park socked person persons
parson stick sticks stuff struck sucks smokey smoked shocker budget budgets seconds
minutes moments second minute moment someone somebody repeated repeating
supporting supported locker lockers looking locking blocked clocked docked rocked mocked
jammer jumped sparkle sparkly burger
""".split())

# Words we know (everything we match on plus common function words): never fuzzed.
_STOP = frozenset("""
a an the it i me my you your we our they them he she him her this that these those there
here is am are was were be been being do does did have has had will would can could
should shall may might must to of in on at for from with by about into onto over under
up down off out again just now then so and or but if as than too very really quite
some any all both each more most other such only own same what which who whom whose when
where why how please thanks thank okay well like um uh oh ah er hmm mm sorry hey hi hello
yes no not got get gets getting go going gone come came comes coming let lets let's
one two three four five six seven eight nine zero ten car cable charger charging
plug plugged plugs handle port socket connector thing station vehicle side
think thought know knew mean guess try tried trying pull pulled pulling push pushed
still yet already anymore longer finally
""".split())

_LEXICON: set[str] = set(_STOP) | set(_FUZZ_TARGETS) | set(_MISHEARD) | set(_MISHEARD.values())


@lru_cache(maxsize=4096)
def _fuzz_token(tok: str) -> str | None:
    if len(tok) < 5 or tok in _LEXICON or tok in _NEVER_FUZZ or not tok.isalpha():
        return None
    cutoff = 88 if len(tok) <= 6 else 85
    best = process.extractOne(tok, _FUZZ_TARGETS, scorer=fuzz.ratio, score_cutoff=cutoff)
    return best[0] if best else None


_FILLERS = {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hmm", "hm", "mm",
            "mmm", "oh", "okay", "hey", "hello", "hi", "actually", "basically", "honestly",
            "listen", "look", "lady", "sir", "maam", "mam", "buddy", "man"}
_LEADING_FILLERS = {"well", "so", "like", "and", "but", "now"}


def _correct(tokens: list[str]) -> tuple[list[str], bool]:
    """Apply mishearing fixes and strict fuzzy corrections; drop fillers."""
    corrected = False
    out: list[str] = []
    # multi-token yes sounds before filler removal
    text = " ".join(tokens)
    text = re.sub(r"\b(?:uh huh|uh hum|mm hmm|mhm|mhmm|mm hm|uh huh uh huh)\b", "yes", text)
    text = re.sub(r"\b(?:you know|i mean|you see|kind of like)\b", " ", text)
    tokens = text.split()
    for i, tok in enumerate(tokens):
        fixed = _MISHEARD.get(tok)
        if fixed is None:
            fixed = _fuzz_token(tok)
            if fixed is not None:
                corrected = True
        elif fixed != tok and tok not in ("yeah", "yep", "yup", "nope", "nah", "ok", "okay",
                                          "alright", "unplug", "agents", "operators",
                                          "humans", "teslas"):
            corrected = True
        out.append(fixed or tok)
    # drop fillers (anywhere) and discourse markers (leading)
    kept = [t for t in out if t not in _FILLERS]
    if kept in (["now"], ["now", "now"], ["know", "know"]):
        return ["no"], True
    while kept and kept[0] in _LEADING_FILLERS:
        kept.pop(0)
    # a leading "know" is a misheard "no" ("know it's still stuck"); a bare "now" too
    if kept and kept[0] == "know" and (len(kept) == 1 or kept[1] not in ("what", "how", "why")):
        kept[0] = "no"
        corrected = True
    if kept in (["now"], ["now", "now"], ["know", "know"]):
        kept = ["no"]
        corrected = True
    return kept, corrected


# ---------------------------------------------------------------------------------------
# Phrase matchers (compiled once)

def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# HAZARD.  Any hazard word yields "hazard", whatever surrounds it: "no smoke" may be a
# garbled "now smoke", "there's no..." is what the recogniser makes of "there's smoke",
# and "it's not sparking anymore" still means it sparked.  A false alarm costs the caller
# a short safety message and a person on the line; a missed one can cost a hand.
_HAZARD_WORDS = frozenset("""
smoke smokes smoking smoked smoky smokey fire fires flame flames flaming ablaze spark
sparks sparking sparked sparky arcing arc burn burns burning burnt burned scorched
scorching melt melts melting melted molten hot overheat overheating overheated shock
shocks shocked shocking electrocuted electrocute electrocution zapped zap explode
exploded exploding explosion fumes smell smells smelling smelt smelled smelly stink stinks
stinky odor odour
sizzling crackling injured injury hurt bleeding ambulance paramedic paramedics 911
police humo fuego chispas chispa quema quemando
quemado caliente descarga incendio llamas
""".split())
_HAZARD_RX = _rx(r"emergency(?! (?:release|cable|pull|latch|handle|unlock|override|lever))",
                 r"on fire", r"caught fire", r"electric(?:al)? shock", r"got a shock",
                 r"hurt (?:my|me)", r"nine one one", r"9 1 1")

_AGENT_STRONG = _rx(
    r"agent", r"operator", r"representative", r"rep", r"human", r"real person", r"live person",
    r"actual person", r"customer (?:service|support|care)", r"support", r"supervisor",
    r"manager", r"attendant", r"technician", r"tech support", r"call cent(?:er|re)",
    r"help ?desk", r"somebody real", r"someone real", r"a real one", r"agente", r"operador",
    r"humano", r"representante",
)
_AGENT_WEAK = _rx(r"person", r"people", r"someone", r"somebody", r"anyone", r"anybody",
                  r"persona", r"alguien")
_AGENT_REQUEST = _rx(
    r"talk", r"speak", r"speaking", r"get me", r"connect", r"transfer", r"put me through",
    r"want", r"need", r"give me", r"is there", r"can i", r"could i", r"let me", r"would like",
    r"call", r"send", r"please", r"hablar", r"quiero",
)

_WAIT_RX = _rx(
    r"hold on", r"hold up", r"hold please", r"please hold", r"hold the line", r"hold one",
    r"hang on", r"hang in there", r"wait", r"wait up", r"waita",
    r"(?:one|a|just a|gimme a|give me a|half a|need a) ?(?:sec|secs|second|moment|minute|min|tick|bit)(?! (?:time|try|attempt|one|plug))",
    r"give me (?:some time|time)", r"(?:need|needs) both (?:my |of my )?hands", r"both (?:my )?hands",
    r"hands (?:are )?full", r"let me (?:try|check|see|do|put|grab|get|look|set|pull|push|give|find|have)",
    r"(?:i will|i am going to|gonna) (?:try|put|check|grab|set)", r"i am trying", r"trying now",
    r"i am putting", r"putting (?:the|my) phone", r"bear with me", r"not ready", r"hold",
    r"espera", r"espere", r"un momento", r"un segundo", r"momentito",
)
_REPEAT_ALONE = re.compile(
    r"^(?:(?:sorry|pardon|excuse me|i am sorry) )?(?:what|huh|eh|pardon|pardon me|sorry|"
    r"excuse me|come again|again|say what|what is that|what was that|what did you say|"
    r"what was the question|you what|i am sorry|what what|huh what|what huh|beg your pardon|"
    r"i beg your pardon|que|como|mande)(?: please| again)?$")
_REPEAT_RX = _rx(
    r"say (?:that|it|this|the question|again)(?: again| one more time)?", r"say again",
    r"repeat(?:ing)?", r"come again", r"one more time",
    r"(?:did not|do not|could not|can not|not) (?:catch|hear|understand) (?:that|you|it|what|the)",
    r"did not get (?:that|what you said)", r"missed (?:that|what you said|it)",
    r"what did you (?:say|just say)", r"what was that", r"what was the question",
    r"(?:speak|talk) (?:up|louder|slower|more slowly)", r"louder", r"pardon",
    r"repite", r"repita", r"otra vez", r"no entendi",
)
_BACK_RX = _rx(
    r"go back", r"going back", r"back up", r"back one", r"step back", r"previous",
    r"last (?:step|question|one)", r"(?:step|one|question) before", r"before that",
    r"undo", r"start over", r"start again", r"from the (?:start|beginning|top)", r"rewind",
    r"atras", r"regresa", r"regresar", r"anterior",
)
_HELP_RX = _rx(
    r"(?<!not )(?<!no )(?<!nothing )(?<!did not )help(?! (?:at all|much|either))(?!ed)",
    r"options?(?! (?:one|two|three|four|five|zero|nine|1|2|3|4|5|0|9)\b)", r"menu",
    r"instructions", r"what can i (?:say|do)", r"what (?:do|should|shall|must) i (?:do|say)",
    r"what am i supposed to", r"how does this work", r"(?:i do not|do not) understand",
    r"i am confused", r"confused", r"i am lost", r"what are (?:my|the) (?:options|choices)",
    r"what to do", r"what now", r"how do i", r"ayuda", r"opciones",
)
_HELP_NEGATED = re.compile(r"\b(?:did not|does not|do not|will not|not|no|nothing|can not|would not) (?:\w+ )?help\b")
_SPANISH_RX = _rx(r"spanish", r"espanol", r"espanola", r"habla", r"hablo", r"hablas",
                  r"castellano", r"espagnol", r"en espanol")

# Spoken keypad ("press one", "zero") when that is all that was said.
_SPOKEN_KEY = re.compile(
    r"^(?:i (?:will )?(?:press|pressed|choose|pick) |press |pressing |option |number |key |dial )?"
    r"(zero|one|two|three|four|five|nine|star|pound|hash|[0-9])(?: please)?$")
_SPOKEN_KEY_MAP = {**{d: d for d in "0123456789"},"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                   "nine": "9", "star": "*", "pound": "#", "hash": "#"}

# --- answers ---------------------------------------------------------------------------

# Yes-like phrases containing no/not words: consume first.
_YES_DESPITE_NO = _rx(r"no problem", r"no worries", r"no doubt", r"why not", r"not a problem",
                      r"no question")
_HEDGE_RX = _rx(
    r"not sure", r"unsure", r"not certain", r"maybe", r"perhaps", r"possibly", r"i do not know",
    r"do not know", r"no idea", r"no clue", r"can not tell", r"could not tell", r"hard to say",
    r"beats me", r"i forget", r"i forgot", r"not a clue", r"who knows", r"no se",
)
_NO_RX = _rx(
    r"no", r"not really", r"not yet", r"not at all", r"no way", r"negative", r"never",
    r"(?:i|it|we|that) (?:did|have|has|do|does|is|was|am|are|had) not", r"do not think so",
    r"i do not", r"not", r"nothing", r"none", r"wrong", r"incorrect", r"nada",
)
_YES_RX = _rx(
    r"yes", r"sure", r"surely", r"correct", r"affirmative", r"absolutely", r"definitely",
    r"certainly", r"indeed", r"of course", r"that is right", r"right", r"true",
    r"(?:i|it|we|that|you) (?:did|have|has|is|do|am|are)$",
    r"i think so", r"i believe so",
    r"i guess so", r"go ahead", r"please do", r"sounds good", r"you bet", r"exactly",
    r"yes please", r"done", r"did it", r"all done", r"si", r"claro", r"correcto",
    r"perfect", r"great", r"awesome", r"excellent",
)

# Neutral noun phrases that contain answer words.
_NEUTRAL_RX = _rx(r"release (?:button|lever|latch|handle|tab|switch|cable|cord|pull|strap)",
                  r"emergency release", r"manual release", r"lock button", r"unlock button",
                  r"out here", r"out there", r"outside", r"went out to", r"out of (?:time|patience|luck)")
_PAST_STUCK_RX = _rx(r"(?:was|were|had been|used to be) (?:stuck|jammed|locked|wedged|caught)")

# Release / stuck signals.  Each entry: regex whose match is the signal word; negation is
# looked for in the few tokens before it (and inside the match).
_OUT_VERB = (r"(?:is|it|came|come|comes|coming|popped|pop|pops|pulled|pull|slid|slide|slides|"
             r"got|get|gets|getting|yanked|wiggled|worked|fell|falls|eased|worked|taken|"
             r"connector|plug|cable|handle|thing|that|way|sprang|jumped|backed)")
_R_RX = [
    re.compile(r"\b" + _OUT_VERB + r"(?: (?:not|never|all|right|finally|straight|already|just|"
               r"now|clean|completely|fully|easily|it|back|them|fine))* out\b"),
    re.compile(r"^(?:it is |its )?(?:all )?out(?: now)?$"),
    _rx(r"free", r"freed", r"loose", r"released", r"release", r"releases", r"releasing",
        r"unplugged", r"unlocked", r"unlock", r"unlocks", r"unlatched", r"disconnected",
        r"disconnect", r"detached", r"removed", r"remove", r"let go", r"lets go",
        r"letting go", r"popped", r"pops", r"pop", r"worked", r"works", r"working",
        r"did the trick", r"does the trick", r"success", r"successful", r"came off", r"come off",
        r"pulled (?:it )?off", r"popped off", r"came away", r"came apart", r"separated",
        r"salio", r"se solto", r"suelto", r"libre", r"desconectado", r"fuera"),
]
_R_WEAK = _rx(r"got it", r"done", r"all good", r"we are good", r"good to go", r"problem solved",
              r"sorted", r"fixed", r"nailed it", r"finally", r"yay", r"woo hoo", r"hooray",
              r"thank god", r"thank goodness")
# stuck words; negated ("not stuck anymore") they mean released
_S_RX = _rx(r"stuck", r"jammed", r"jam", r"jams", r"locked", r"wedged", r"trapped", r"seized",
            r"frozen", r"latched", r"caught", r"attached", r"connected", r"plugged in",
            r"plugged", r"lodged", r"atascado", r"atorado", r"trabado", r"bloqueado", r"pegado")
# stuck phrases that have no released reading
_S_ONLY_RX = _rx(
    r"still", r"no luck", r"no change", r"no dice", r"no joy", r"no go", r"same", r"unfortunately",
    r"nothing", r"not yet", r"refuses", r"tight", r"stiff", r"holding", r"hold it",
    r"again", r"sigue", r"no sale", r"won t", r"no budge", r"not budging",
)
# motion/success verbs: negated they mean stuck ("won't budge", "not moving", "didn't work")
_MOTION_RX = _rx(r"budge", r"budged", r"budging", r"move", r"moved", r"moves", r"moving",
                 r"give", r"gave", r"giving", r"slide", r"help", r"helped", r"helping",
                 r"come", r"coming", r"came", r"happen", r"happened", r"succeed",
                 r"get it", r"pull it", r"let me", r"open", r"opened", r"opening", r"work")
# Completed forms: "it's coming out" or "I'll pull it out" may be a garbled "it's not
# coming out" / "I can't pull it out"; "it came out" and "unplugged" say it happened.
# Not here: "worked" (a garbled "didn't work"), "unlocked" (the car, not the connector).
_DONE_FORMS = frozenset("""
came popped is pulled got slid yanked fell eased taken sprang jumped backed free freed
loose released unplugged disconnected detached removed let
trick success successful separated away apart off out salio solto suelto libre
desconectado
""".split()) - {"out", "off"}
_NEGATORS = frozenset({"not", "never", "nothing", "no", "without", "nor", "neither", "none",
                       "hardly", "barely", "longer", "refuses", "refused", "refusing", "fails",
                       "failed", "unable"})
_CLAUSE_BREAK = frozenset({"but", "and", "though", "although", "because", "however", "then",
                           "so", "except", "while", "finally", "now", "anymore", "if",
                           "whether", "when"})

# Words a single mishearing can flip into or out of a negation ("it won't come out" ->
# "it will come out", "it didn't" -> "it did").  A release containing one is never certain.
_FLIP_PRONE = frozenset("""
will would can could did does do should not no never nothing still stuck jammed locked yet
but though almost nearly partly partially half kind sort maybe think guess was were had
anymore longer try tried trying hardly barely if stock stack struck know hold holding tight
""".split())

# --- connectors ----------------------------------------------------------------------
_CONNECTOR_RX = {
    "connector_ccs": _rx(
        r"ccs ?[12]?", r"c c s", r"cc s", r"c ss", r"css", r"c s s", r"see see (?:yes|ess|s|es)",
        r"sea sea (?:yes|ess|s|es)", r"see c s", r"c c yes", r"c c ess", r"combo", r"combined charging",
        r"combined charging system", r"combined", r"two (?:big )?pins (?:at|on) the bottom",
        r"pins at the bottom", r"(?:big|bigger) one with (?:two|2) pins", r"type two combo",
        r"combo one", r"cee cee ess"),
    "connector_chademo": _rx(
        r"chademo", r"chad a mo", r"chad ?e ?mo", r"cha de mo", r"cha ?demo", r"sha de mo",
        r"shadow mo", r"shadow moe", r"shadow mode", r"chat a mole", r"chad a mole",
        r"chad a moe", r"shad a mo", r"chow de mo", r"charge de move", r"japanese",
        r"nissan", r"leaf", r"mitsubishi", r"outlander", r"chad", r"shadow"),
    "connector_j1772": _rx(
        r"j ?1772", r"j 1 7 7 2", r"(?:j|jay|jey|gee) (?:seventeen seventy ?two|one seven seven two|"
        r"1 7 7 2|17 72|1772|seventeen 72|17 seventy two)", r"seventeen seventy ?two", r"1772",
        r"type (?:one|1)", r"round one", r"round plug", r"level (?:two|2)", r"level two plug",
        r"j plug", r"j one seven", r"j 17", r"regular plug", r"standard plug", r"normal plug",
        r"normal one", r"regular one", r"standard one", r"j connector", r"j type"),
    "connector_tesla": _rx(
        r"tesla", r"nacs", r"n a c s", r"north american", r"super ?charger",
        r"tesla plug", r"tesla connector", r"nax", r"knacks", r"nack", r"tessa"),
}
_CHADEMO_FUZZ_CUTOFF = 80  # joined 1-3 token windows vs "chademo": "chadamo" 86, "chat" no


def _chademo_fuzzy(tokens: list[str]) -> bool:
    for n in (1, 2, 3):
        for i in range(len(tokens) - n + 1):
            joined = "".join(tokens[i:i + n])
            if 5 <= len(joined) <= 10 and fuzz.ratio(joined, "chademo") >= _CHADEMO_FUZZ_CUTOFF:
                return True
    return False


# ---------------------------------------------------------------------------------------
# The reading

def _has(rx: re.Pattern[str], text: str) -> bool:
    return rx.search(text) is not None


def _negated(tokens: list[str], start: int, end: int) -> bool:
    """Is the signal at tokens[start:end] negated by a word shortly before (or inside)?"""
    if any(t in _NEGATORS and t != "longer" for t in tokens[start:end]):
        return True
    for j in range(start - 1, max(-1, start - 5), -1):
        t = tokens[j]
        if t in _CLAUSE_BREAK:
            return False
        if t in _NEGATORS:
            # "no longer" negates; a lone leading "no" is an answer word, not a negator
            # unless directly before the signal ("no movement").
            if t in ("no", "nothing") and not (
                    j == start - 1 or tokens[j + 1] == "longer"
                    or all(x in ("is", "was") for x in tokens[j + 1:start])):
                continue
            return True
    return False


def _spans(rx: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Token spans of the regex matches (text is tokens joined by single spaces)."""
    out = []
    for m in rx.finditer(text):
        start = text.count(" ", 0, m.start())
        end = start + m.group(0).count(" ") + 1
        out.append((start, end))
    return out


def _blank(rx: re.Pattern[str], text: str) -> str:
    """Remove matches, keeping token positions (each matched token becomes '_')."""
    return rx.sub(lambda m: " ".join("_" for _ in m.group(0).split()), text)


def _unexplained(text: str) -> int:
    return sum(1 for t in text.split() if t != "_" and t not in _STOP and t not in _FILLERS)


@dataclass
class _Answer:
    released: int = 0          # effective release signals
    done: int = 0              # of which in a completed form ("came out", "unplugged")
    stuck: int = 0             # effective stuck signals
    reversal: bool = False     # a negated stuck word was read as released
    weak_release: bool = False  # only "got it"/"done"-like signals
    yes: bool = False
    no: bool = False
    hedge: bool = False
    last: str = ""             # which kind came last: "released" / "stuck"
    rest: int = 0              # unexplained content tokens


def _read_answer(tokens: list[str]) -> _Answer:
    a = _Answer()
    text = " ".join(tokens)
    text = _blank(_NEUTRAL_RX, text)
    if _has(_PAST_STUCK_RX, text):
        a.reversal = True     # "it was stuck but..." -- never certain
        text = _blank(_PAST_STUCK_RX, text)
    toks = text.split()
    positions: list[tuple[int, str]] = []

    def signal(pos: int, kind: str) -> None:
        positions.append((pos, kind))
        if kind == "released":
            a.released += 1
        else:
            a.stuck += 1

    taken: set[int] = set()
    for rx in _R_RX:
        for s, e in _spans(rx, text):
            if taken.intersection(range(s, e)):
                continue
            taken.update(range(s, e))
            if _negated(toks, s, e):
                signal(s, "stuck")
            else:
                signal(s, "released")
                a.done += bool(_DONE_FORMS.intersection(toks[s:e]))
    for s, e in _spans(_S_RX, text):
        if taken.intersection(range(s, e)):
            continue
        taken.update(range(s, e))
        if _negated(toks, s, e):
            a.reversal = True
            signal(s, "released")
        else:
            signal(s, "stuck")
    for s, e in _spans(_S_ONLY_RX, text):
        if not taken.intersection(range(s, e)):
            taken.update(range(s, e))
            signal(s, "stuck")
    for s, e in _spans(_MOTION_RX, text):
        if not taken.intersection(range(s, e)) and _negated(toks, s, e):
            taken.update(range(s, e))
            signal(s, "stuck")
            taken.update(j for j in range(max(0, s - 4), s) if toks[j] in _NEGATORS)
    if not a.released:
        for s, e in _spans(_R_WEAK, text):
            if not taken.intersection(range(s, e)) and not _negated(toks, s, e):
                taken.update(range(s, e))
                a.weak_release = True
                signal(s, "released")
    toks = ["_" if i in taken else t for i, t in enumerate(toks)]
    if positions:
        a.last = max(positions)[1]
    _markers(" ".join(toks), a)
    return a


def _markers(text: str, a: _Answer) -> _Answer:
    """Yes / no / hedge markers in `text` (what the content signals left over)."""
    if _has(_YES_DESPITE_NO, text):
        a.yes = True
        text = _blank(_YES_DESPITE_NO, text)
    if _has(_HEDGE_RX, text):
        a.hedge = True
        text = _blank(_HEDGE_RX, text)
    if _has(_NO_RX, text):
        a.no = True
        text = _blank(_NO_RX, text)
    if _has(_YES_RX, text):
        a.yes = True
        text = _blank(_YES_RX, text)
    a.rest = _unexplained(text)
    return a


# Every word any matcher mentions is "known" and never fuzzed into another one
# ("unlocked" must not become "locked").
_LEXICON.update(
    w for rx in [v for v in globals().values() if isinstance(v, re.Pattern)]
    + _R_RX + list(_CONNECTOR_RX.values())
    for w in re.findall(r"[a-z]{3,}", rx.pattern))
_LEXICON.update(_HAZARD_WORDS, _FLIP_PRONE, _DONE_FORMS, _NEGATORS, _CLAUSE_BREAK, _FILLERS)


def _connector(tokens: list[str], text: str) -> tuple[str | None, bool]:
    """(connector intent or None, fuzzy) -- negated names ("not a tesla") are dropped."""
    found: set[str] = set()
    for intent, rx in _CONNECTOR_RX.items():
        for s, e in _spans(rx, text):
            if not _negated(tokens, s, e):
                found.add(intent)
    fuzzy = False
    if not found and _chademo_fuzzy(tokens):
        found.add("connector_chademo")
        fuzzy = True
    if len(found) == 1:
        return found.pop(), fuzzy
    if len(found) > 1:
        return "unclear", False
    return None, False


def _command(tokens: list[str], text: str) -> str | None:
    if any(t in _HAZARD_WORDS for t in tokens) or _has(_HAZARD_RX, text):
        return "hazard"
    if _has(_AGENT_STRONG, text):
        return "agent"
    if _has(_AGENT_WEAK, text) and (_has(_AGENT_REQUEST, text) or len(tokens) <= 3):
        return "agent"
    if _has(_WAIT_RX, text):
        return "wait"
    if _REPEAT_ALONE.match(text) or _has(_REPEAT_RX, text):
        return "repeat"
    if _has(_BACK_RX, text) or text == "back":
        return "back"
    if _has(_HELP_RX, text) and not _HELP_NEGATED.search(text):
        return "help"
    if _HELP_NEGATED.search(text) and _has(re.compile(r"\b(?:what to do|what do i do|options)\b"), text):
        return "help"
    if _has(_SPANISH_RX, text):
        return "spanish"
    return None


def _certain_release(a: _Answer, tokens: list[str], confidence: float | None,
                     corrected: bool) -> bool:
    if confidence is None or confidence < RELEASE_CONFIDENCE:
        return False
    if corrected or a.reversal or a.weak_release or a.stuck or a.no or a.hedge:
        return False
    if not a.done or a.rest > 2:
        return False
    return not any(t in _FLIP_PRONE for t in tokens)


def _speech(speech: str, confidence: float | None, expecting: str) -> Understanding:
    heard = _heard(speech)
    raw_tokens = _tokens(heard)
    tokens, corrected = _correct(raw_tokens)
    text = " ".join(tokens)
    low = confidence is not None and confidence < RELEASE_CONFIDENCE
    plain = not (low or corrected)

    def result(intent: str, certain: bool = True) -> Understanding:
        return Understanding(intent, certain, heard)

    if not tokens:
        return result("unclear")
    # Hazard words are checked on the uncorrected tokens too (a correction must never
    # hide one).
    if any(t in _HAZARD_WORDS for t in raw_tokens):
        return result("hazard")
    command = _command(tokens, text)
    if command is not None:
        return result(command, plain or command in ("hazard", "agent"))

    key = _SPOKEN_KEY.match(text)
    if key:
        intent = _key_intent(_SPOKEN_KEY_MAP[key.group(1)], expecting)
        return result(intent, intent not in ("released",) and plain)

    if expecting == "connector":
        conn, fuzzy = _connector(tokens, text)
        if conn is not None:
            return result(conn, plain and not fuzzy and conn != "unclear")
        a = _read_answer(tokens)
        if a.hedge and not a.released:
            return result("connector_unsure", plain)
        return result("unclear")

    a = _read_answer(tokens)
    if expecting == "released":
        if a.stuck and (not a.released or a.last == "stuck" or "still" in tokens):
            return result("still_stuck")
        if a.stuck and a.released or a.released and a.hedge:
            return result("unclear")       # "stuck for ages then popped out": ask again
        if a.released:
            if a.rest > 4 and a.weak_release:
                return result("unclear")
            return result("released", _certain_release(a, tokens, confidence, corrected))
        if a.hedge:
            return result("unclear")
        if a.yes and a.no:
            return result("unclear")
        if a.rest > (0 if a.yes and not a.no else 3):
            return result("unclear")       # a stray "yeah" in noise is not an answer
        if a.no:
            return result("still_stuck")
        if a.yes:
            return result("released", False)  # a bare yes: confirm before ending the call
        return result("unclear")

    if expecting == "yes_no":
        a = _markers(text, _Answer(released=a.released, stuck=a.stuck))
        if a.rest > 3 or a.hedge and not (a.yes or a.no):
            return result("unclear")
        if a.yes and a.stuck and not a.released:
            # "yes, it's still stuck" to "is it out?": never a yes that could end the call
            return result("unclear")
        if a.yes and not a.no:
            return result("yes", plain)
        if a.no and not a.yes:
            return result("no", plain)
        if a.released and not a.stuck and not a.yes and not a.no:
            return result("released", False)   # "it came out!" to another question
        return result("unclear")

    # "any": no particular question -- a command (handled above) or any clear answer
    conn, fuzzy = _connector(tokens, text)
    if conn is not None and conn != "unclear":
        return result(conn, plain and not fuzzy)
    if a.stuck and not a.released:
        return result("still_stuck")
    if a.released and not a.stuck and not a.weak_release:
        return result("released", False)
    if a.rest > 3 or a.hedge:
        return result("unclear")
    if a.yes and not a.no:
        return result("yes", plain)
    if a.no and not a.yes:
        return result("no", plain)
    return result("unclear")


def understand(speech: str | None, confidence: float | None, digits: str | None,
               expecting: str, language: str = "en-US",
               vocabulary: Vocabulary | None = None) -> Understanding:
    """Map one Gather result to an intent.  Digits win over speech; silence is 'silence'.

    English is read by the rules of this module (which also know the most important
    Spanish words).  Another language is read with its `vocabulary` (ivr.vocabulary, from
    its prompts file) by ivr.reader; a language without one falls back to these rules.
    """
    if expecting not in EXPECTATIONS:
        expecting = "any"
    keys = "".join((digits or "").split())
    if keys:
        # One key is the protocol; a repeated key ("11") is read as that key.
        if len(set(keys)) == 1:
            return Understanding(_key_intent(keys[0], expecting), True, keys)
        return Understanding("unclear", True, keys)
    if speech is None or not speech.strip():
        return Understanding("silence", True, "")
    if vocabulary is not None and not language.lower().startswith("en"):
        return _speech_with(vocabulary, speech, confidence, expecting)
    return _speech(speech, confidence, expecting)


def _english_hazard(tokens: list[str]) -> bool:
    """English hazard words count in every language: safety first."""
    return any(t in _HAZARD_WORDS for t in tokens) or _has(_HAZARD_RX, " ".join(tokens))


def _english_agent(text: str) -> bool:
    return _has(_AGENT_STRONG, text)


def _speech_with(vocabulary: Vocabulary, speech: str, confidence: float | None,
                 expecting: str) -> Understanding:
    heard = _heard(speech)
    intent, certain = reader.read(vocabulary, heard, confidence, expecting,
                                  english_hazard=_english_hazard, english_agent=_english_agent)
    if intent.startswith("key:"):
        intent = _key_intent(intent[4:], expecting)
        certain = certain and intent != "released"
    return Understanding(intent, certain, heard)


# ---------------------------------------------------------------------------------------
# Hints

_HINTS = {
    "yes_no": ["yes", "no", "yeah", "nope"],
    "released": ["it came out", "it's out", "still stuck", "it won't come out", "yes", "no",
                 "it's free", "not yet"],
    "connector": ["CCS", "combo", "CHAdeMO", "J1772", "J seventeen seventy two", "type one",
                  "Tesla", "NACS", "not sure"],
    "any": ["I'm back", "ready", "yes", "no"],
}
_GLOBAL_HINTS = ["agent", "real person", "operator", "repeat", "say that again", "go back",
                 "wait", "hold on", "help", "smoke", "sparks", "fire", "Spanish", "español"]


@lru_cache(maxsize=64)
def hints(expecting: str, language: str = "en-US", vocabulary: Vocabulary | None = None) -> tuple[str, ...]:
    """Speech hints for a question: its expected words plus the global commands
    (short phrases, e.g. 'still stuck', 'came out', 'agent', 'repeat', 'wait', 'CHAdeMO', 'J1772').

    A language with a vocabulary brings its own (`hints:` in its prompts file).
    Built once per question kind and language (a vocabulary is loaded once):
    every question's webhook asks for them."""
    if vocabulary is not None and vocabulary.hints and not language.lower().startswith("en"):
        return tuple(vocabulary.hints_for(expecting))
    out: list[str] = []
    for h in _HINTS.get(expecting, _HINTS["any"]) + _GLOBAL_HINTS:
        if h not in out:
            out.append(h)
    return tuple(out)
