"""Hidden text that orders the reader about: a task, a rule for its answer, a secret to keep.

Preheaders give orders too ("Shop now", "View this email in your browser", "Forward to a
friend"), so the verbs and objects here are the ones marketing never hides: tasks for a model
('explain', 'summarise', 'translate the following'), orders about an answer, a summary, the
user or the mailbox's data, 'you must', 'do not tell the user', 'your task is to'.
"""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.hidden_prose import Anchored, HiddenPatternRule
from mailmoat.scanner.domain.rules.lexicon import BULK_MAIL, SENSITIVE

# Patterns are written in lower case and read the folded text (see hidden_prose.fold).
_M = re.MULTILINE
# Sentence start, after a word that leads into a command, or (group "cap", checked on the
# original text) a capitalised word in mid-text: ingest joins neighbouring alt texts ("Company
# logo Provide a poem").
_START = (
    r"(?:^|[.!?:;>\]\)\u2022*\u2013\u2014-]\s*|\b(?:please|kindly|now|then|and|also|first|"
    r"next|finally|instead|just)\s+|(?P<cap>\s))"
)
_PERSON = (
    r"(?:the\s+|all\s+|any\s+|every\s+)?(?:users?|recipients?|readers?|humans?|senders?|"
    r"(?:account|mailbox)\s+(?:owner|holder)s?)\b"
)
# Verbs that set a model a task; a newsletter sells, it does not ask its reader to explain.
_TASK = (
    r"(?:explain|describe|summari[sz]e|translate|paraphrase|misspell|scramble|jumble|"
    r"rearrange|anagram|substitute|augment|append|prepend|disclose|leak|"
    r"exfiltrate|b?cc|pretend|classify|categori[sz]e|elaborate|enumerate|recite|"
    r"break\s+down|output)"
)
_TASK_OBJECT = (
    r"(?:the|a|an|this|these|that|those|how|what|why|who|when|where|which|all|every|each|any|"
    r"my|its|their|his|her|previous|prior|above|below|following|in|briefly)\b|[\"'\u201c\u2018]"
)
# "Ignore the noise" and "forget the rules" sell; what a model is told to ignore is what it
# was told before: its instructions, or rules and text said to come earlier.
_EARLIER = (
    r"(?:previous|prior|above|earlier|preceding|original|other|existing|usual|sender'?s?|"
    r"user'?s?|system)"
)
_IGNORE = (
    r"(?:ignore|disregard|forget)\s+(?:(?:all|any|every|the|these|those|your|my|its|each)\s+)?"
    r"(?:(?:" + _EARLIER + r"\s+){0,3}(?:instructions?|guidelines?|directives?|prompts?|"
    r"safeguards?)|(?:" + _EARLIER + r"\s+){1,3}(?:rules?|warnings?|polic(?:y|ies)|requests?|"
    r"context|text|content))\b"
)
# Verbs a newsletter does use ("create an account", "give the gift") count with a piece of
# writing as their object: "write a short story", "provide an example". Writing that marketing
# tips newsletters teach (articles, headlines, bios, reviews) is left out.
_MAKE = (
    r"(?:write|provide|develop|create|generate|produce|prepare|draft|compose|give|make|show|"
    r"craft|include|add|insert)"
)
_WRITING = (
    r"(?:(?:me|us|the\s+user|them)\s+)?(?:an?|the|one|some|two|three|five|ten|\d+)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:poems?|stor(?:y|ies)|essays?|letters?|speech(?:es)?|introductions?|"
    r"paragraphs?|sentences?|summar(?:y|ies)|haikus?|songs?|limericks?|jokes?|functions?|"
    r"programs?|scripts?|code|snippets?|examples?|translations?|outlines?|overviews?|"
    r"explanations?|descriptions?|riddles?|anagrams?)\b"
)
_DATA_VERB = (
    r"(?:send|forward|share|export|upload|copy|b?cc|e-?mail|transfer|post|leak|dump|paste|"
    r"reveal|disclose|print|output|list|include|give|provide|attach)"
)
# Verbs after "you must" that marketing uses ("you must see this", "you need to try it").
_SALES_VERBS = (
    r"(?:see|know|read|hear|try|check|love|like|have|be|act|hurry|look|watch|visit|join|enjoy|"
    r"get|feel|experience|meet|register|sign|subscribe|confirm|verify|update|log|activate|order|"
    r"buy|shop|book|call|claim|redeem|apply|download|upgrade|renew|complete|pay|return|present|"
    r"bring|wear|keep|remember|consider|contact|consult|expect|receive|attend|respond|reply|"
    r"click|use|enter|create|start|make|go|come|take|own|save|hold|ask|treat|discover|explore|"
    r"grab|find|switch|stop|think|follow|plan|prepare|celebrate|gift|give|taste|travel|relax|"
    r"stay|pick|choose|bookmark|share|tell|invite|add)\b"
)

_TASKS = re.compile(
    _START
    + r"(?:(?:"
    + _TASK
    + r")\s+(?:"
    + _TASK_OBJECT
    + r")|"
    + _IGNORE
    + r"|"
    + _MAKE
    + r"\s+"
    + _WRITING
    + r")",
    _M,
)
_MODAL = re.compile(
    r"\byou\s+(?:must|should|shall|need\s+to|have\s+to|are\s+to|ought\s+to|(?:may|must|shall|"
    r"should)\s+not|mustn'?t|shouldn'?t|are\s+(?:now\s+)?(?:required|instructed|expected|"
    r"asked|supposed|told|ordered|directed|permitted|allowed|authori[sz]ed|tasked)\s+to|"
    r"are\s+not\s+(?:allowed|permitted)\s+to|have\s+been\s+(?:instructed|told|ordered|"
    r"authori[sz]ed|directed|tasked))\s+(?!" + _SALES_VERBS + r")(?:now\s+|also\s+|always\s+|"
    r"immediately\s+)?[a-z]+",
    _M,
)
_ABOUT_ANSWER = re.compile(
    r"\b(?:in|into|within|throughout|from|of)\s+(?:your|each|every)\s+(?:(?:final|next|own|"
    r"first|entire|whole)\s+)?(?:answers?|responses?|repl(?:y|ies)|summar(?:y|ies)|outputs?|"
    r"completions?)(?:'s)?\b"
    r"|\b(?:when|while|before|after|whenever|once)\s+(?:you\s+(?:are\s+)?)?(?:(?:summari[sz]|"
    r"process|triag|draft|generat)\w*\s+(?:this|these|the|that|my|any|an?)\b|(?:answer|respond|"
    r"repl)\w*\s+to\s+(?:the\s+)?(?:user|sender|recipient)\b)",
    _M,
)
# Secrets kept from the user; "don't tell her" is a Valentine's preheader, so a pronoun is not
# enough, the text must name the user (or the note itself).
_CONCEAL = re.compile(
    r"\b(?:do\s+not|don'?t|never|must\s+not|mustn'?t|without)\s+(?:ever\s+)?(?:tell|inform|"
    r"alert|notify|warn|let|ask)(?:ing)?\s+(?:" + _PERSON + r"|anyone\s+(?:about|of)\s+(?:this|"
    r"these|it)\b)"
    r"|\b(?:do\s+not|don'?t|never|must\s+not|mustn'?t|without)\s+(?:ever\s+)?(?:mention|reveal|"
    r"disclos|say|report|flag|show|repeat|quot|summari[sz]|includ|display|acknowledg|refer)\w*"
    r"\s+(?:(?:this|these|the)\s+(?:\w+\s+)?(?:instructions?|notes?|messages?|requests?|text|"
    r"prompt|changes?|sections?|parts?)\b|(?:this|it|that|them)(?=\s*(?:[.,;!]|$|\s+(?:to|in|"
    r"from|with|when|until|unless|anywhere|at\s+all)\b)))"
    r"|\bwithout\s+(?:asking|waiting)\s+for\s+(?:the\s+)?(?:user'?s?\s+)?(?:confirmation|"
    r"permission|approval|consent)\b"
    r"|\bwithout\s+(?:the\s+)?(?:user'?s?|human|owner'?s?)\s+(?:confirmation|permission|approval|"
    r"consent|knowledge)\b"
    r"|\b(?:silently|secretly|quietly)\s+(?:forward|send|copy|b?cc|delete|approve|pay|transfer|"
    r"add|export|upload|remove)\b",
    _M,
)
# "Your task is due" and "updated instructions for your visit" are project tools and clinics
# writing to people; a task given "to" do, or instructions announced with a colon, are orders.
_FRAMING = re.compile(
    r"\byour\s+(?:new\s+|real\s+|actual\s+|true\s+|primary\s+|main\s+|only\s+|next\s+)?"
    r"(?:tasks?|instructions?|directives?)\s+(?:is|are|will\s+be|now\s+is)\s+to\b"
    r"|\byour\s+(?:new\s+|real\s+|actual\s+|true\s+)?(?:instructions|directives)\s*:"
    r"|\byour\s+(?:new|real|actual|true)\s+(?:job|goal|objective|mission|role|priority|"
    r"purpose|orders)\b"
    r"|\b(?:new|secret|hidden|real|actual)\s+(?:instructions?|directives?)\s*(?::|follow\b)"
    r"|\b(?:new|updated|secret|hidden|real|actual)\s+system\s+prompt\b"
    r"|\b(?:obey|execute|carry\s+out|comply\s+with|perform|adhere\s+to)\s+(?:these|the\s+"
    r"following|the\s+(?:below|above|next)|my|those|all\s+(?:the\s+)?)\s+(?:\w+\s+)?"
    r"(?:instructions?|orders|commands|directives|tasks?|requests?)\b",
    _M,
)
# Claims made to the reader about what the user allowed: a newsletter has nobody to convince.
# An administrator or a document's owner does grant things in notifications people get; "the
# user" and "the mailbox owner" are how one speaks about a person to their assistant.
_CONSENT = re.compile(
    r"\bthe\s+(?:user|recipient|account\s+(?:owner|holder)|mailbox\s+owner)\s+(?:has|have|had)\s+"
    r"(?:already\s+|previously\s+|explicitly\s+|now\s+)?(?:authori[sz]ed|approved|granted|"
    r"consented|allowed|permitted|agreed|instructed|whitelisted|asked\s+you|requested\s+that)\b"
    r"|\bthe\s+user\s+(?:wants|would\s+like|expects|needs|prefers|is\s+asking)\s+(?:you|that)\b"
    r"|\b(?:full|complete|unrestricted|admin(?:istrator)?|root|elevated)\s+(?:access|permissions?|"
    r"privileges?|rights)\s+(?:has|have|is|are)\s+already\s+(?:been\s+)?(?:granted|"
    r"authori[sz]ed|approved|enabled)\b",
    _M,
)
_REQUESTS = re.compile(
    r"\b(?:can|could|would|will)\s+you\s+(?:please\s+|kindly\s+)?(?:(?:show|tell)\s+(?:me|the\s+"
    r"user)|explain|list|summari[sz]e|translate|draft|compose|describe|generate|fetch|retrieve|"
    r"(?:reply|respond)\s+with)\b",
    _M,
)
# Orders about the user, the mailbox's data, and the wording of a reply ("reply with your
# availability" and "reply STOP" are left to people).
_COMMANDS = re.compile(
    _START + r"(?:(?:tell|remind|encourag\w*|invit\w*|ask|urg\w*|advis\w*|persuad\w*|convinc\w*|"
    r"inform|warn|notify|assur\w*|suggest\w*|recommend\w*)\s+(?:to\s+)?"
    + _PERSON
    + r"|"
    + _DATA_VERB
    + r"\b[^.\n]{0,60}?(?:"
    + BULK_MAIL
    + "|"
    + SENSITIVE
    + r")|(?:reply|respond|answer)\s+(?:to\s+(?:the\s+)?(?:user|sender|recipient|them|him|her)\s+)?"
    r"(?:only\s+)?(?:with|saying|that)\b(?!\s+(?:your|stop|yes|no|unsubscribe|remove|"
    r"questions?|any)\b))",
    _M,
)
_TASK_WORDS = (
    *("explain", "describe", "summarize", "summarise", "translate", "paraphrase", "misspell"),
    *("scramble", "jumble", "rearrange", "anagram", "substitute", "augment", "append"),
    *("prepend", "disclose", "leak", "exfiltrate", "bcc", "cc", "pretend", "classify"),
    *("categorize", "categorise", "elaborate", "enumerate", "recite", "break", "output"),
    *("ignore", "disregard", "forget"),
)
_WRITING_WORDS = (
    *("poem", "poems", "story", "stories", "essay", "essays", "letter", "letters", "speech"),
    *("speeches", "introduction", "introductions", "paragraph", "paragraphs", "sentence"),
    *("sentences", "summary", "summaries", "haiku", "haikus", "song", "songs", "limerick"),
    *("limericks", "joke", "jokes", "function", "functions", "program", "programs", "script"),
    *("scripts", "code", "snippet", "snippets", "example", "examples", "translation"),
    *("translations", "outline", "outlines", "overview", "overviews", "explanation"),
    *("explanations", "description", "descriptions", "riddle", "riddles", "anagrams"),
)
_MODALS = (
    *("you must", "you should", "you shall", "you need", "you have", "you are", "you ought"),
    *("you may", "you mustn't", "you mustnt", "you shouldn't", "you shouldnt"),
)
_ANSWER_WORDS = (
    *("answer", "answers", "response", "responses", "reply", "replies", "summary", "summaries"),
    *("output", "outputs", "completion", "completions", "summarizing", "summarising"),
    *("summarize", "summarise", "summarizes", "summarises", "processing", "process"),
    *("processes", "triaging", "triage", "drafting", "draft", "generating", "generate"),
    *("answering", "responding", "replying", "respond", "responds"),
)
_NEGATIONS = ("do not", "don't", "dont", "never", "must not", "mustn't", "without")
_CONCEAL_WORDS = (*_NEGATIONS, "silently", "secretly", "quietly")
_FRAMING_WORDS = (
    *("task", "tasks", "instruction", "instructions", "directive", "directives", "job", "goal"),
    *("objective", "mission", "role", "priority", "purpose", "orders", "system prompt", "obey"),
    *("execute", "carry out", "comply", "perform", "adhere"),
)
_CONSENT_WORDS = (
    *("the user", "the recipient", "the account", "the mailbox", "access", "permission"),
    *("permissions", "privileges", "rights"),
)
_REQUEST_WORDS = ("can you", "could you", "would you", "will you")
_COMMAND_WORDS = (
    *("reply", "respond", "answer", "user", "users", "recipient"),
    *("recipients", "reader", "readers", "human", "humans", "sender", "senders", "owner"),
    *("owners", "holder", "holders", "send", "forward", "share", "export", "upload", "copy"),
    *("bcc", "cc", "email", "e-mail", "transfer", "post", "leak", "dump", "paste", "reveal"),
    *("disclose", "print", "output", "list", "include", "give", "provide", "attach"),
)

ORDERS_IN_HIDDEN = HiddenPatternRule(
    code="hidden.instruction",
    description="hidden text instructs the reader",
    weight=50,
    checks=(
        Anchored(_TASKS, (*_TASK_WORDS, *_WRITING_WORDS)),
        Anchored(_MODAL, _MODALS),
        Anchored(_ABOUT_ANSWER, _ANSWER_WORDS),
        Anchored(_CONCEAL, _CONCEAL_WORDS),
        Anchored(_FRAMING, _FRAMING_WORDS),
        Anchored(_CONSENT, _CONSENT_WORDS),
        Anchored(_REQUESTS, _REQUEST_WORDS),
        Anchored(_COMMANDS, _COMMAND_WORDS),
    ),
)
