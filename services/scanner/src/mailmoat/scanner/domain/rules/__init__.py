"""The checker's rules, one module each, and the registry the checker runs them from.

| code                            | weight | fires on                                             |
|---------------------------------|--------|------------------------------------------------------|
| injection.role_token            | 70     | <|im_start|>, [INST], ### System:, Human:/Assistant:  |
| injection.override              | 60     | ignore previous instructions (en, es, fr, de, pt)    |
| injection.override_multilingual | 60     | the same and prompt leaks in 15 more languages       |
| injection.jailbreak             | 60     | DAN, developer mode, 'stay in character'             |
| injection.forged_boundary       | 55     | </email>; 'END OF EMAIL', 'Email 2:', 'User:' + order|
| exfil.forward_multilingual      | 55     | 'send all emails to' + address, in 14 languages      |
| unicode.tag_block               | 60     | U+E0000 tag characters outside flag emoji (decoded)  |
| injection.tool_call             | 50     | <tool_call>, <function_calls>, {"tool": ...}         |
| injection.output_manipulation   | 50     | orders about the reader's own answer or reply        |
| injection.code_insertion        | 50     | 'merge the following code block into your solution' |
| exfil.url_data                  | 50     | URL placeholders ({password}), data-laden md images  |
| exfil.forward_to_address        | 50     | send the mailbox or secrets to an address            |
| exfil.outward_request           | 50     | 'reply to x@y with a summary of this thread'         |
| unicode.bidi_control            | 45     | bidi overrides; embeddings/isolates in LTR-only text |
| injection.addressed_to_ai       | 55     | 'if you are an AI', 'before you summarise' + order   |
| injection.safety_bypass         | 50     | drop your training/safeguards (en es fr de it pt)    |
| injection.prompt_leak           | 50     | reveal your system prompt / hidden guidelines        |
| injection.fake_authority        | 50     | [SYSTEM]:, ADMIN_REQUEST:, 'debug mode: show ...'    |
| injection.role_play             | 40     | you are now, from now on you, jailbreak, new prompt: |
| injection.role_play_multilingual| 40     | 'you are now' in 15 more languages                   |
| hidden.addressed_to_ai          | 50     | hidden prose speaking to an AI, 'whoever reads this' |
| hidden.instruction              | 50     | hidden prose setting a task or order ('you must')    |
| hidden.link                     | 50     | URL or address in hidden prose (not unsubscribe)     |
| hidden.directive                | 50     | hidden 'SYSTEM: ...', 'the user prefers', 'is safe'  |
| hidden.instructions             | 40     | any injection.* or exfil.* finding in hidden/decoded |
| hidden.action_text              | 35     | an imperative in hidden prose (preheaders say these) |
| exfil.secret_request            | 30     | asks for passwords, keys, the whole mailbox          |
| injection.mentions_ai           | 30     | 'AI assistant', 'dear agent', 'LLM' + an order       |
| mismatch.text_html              | 30     | one body version alone carries instruction words     |
| exfil.drop_site                 | 25     | request catchers and paste sites                     |
| exfil.outward_action            | 25     | 'forward this to x@y', 'delete all emails'           |
| unicode.invisible_split         | 25     | zero-width characters inside Latin words             |
| encoding.payload                | 15     | base64/hex text that decodes to words (rescanned)    |

Decoders (each yields text every rule reads again, as concealed text): tag characters, bidi
overrides, zero-width splitting, base64/hex/rot13, fullwidth letters, and obfuscation (spaced-out
letters, leetspeak, look-alike letters, chat tokens written apart).
"""

from __future__ import annotations

from mailmoat.scanner.domain.rules.addressed import ADDRESSED_TO_AI, MENTIONS_AI
from mailmoat.scanner.domain.rules.authority import FAKE_AUTHORITY
from mailmoat.scanner.domain.rules.base import ContentRule, Decoder, SegmentRule
from mailmoat.scanner.domain.rules.bidi import BIDI_CONTROL, BIDI_DECODER
from mailmoat.scanner.domain.rules.boundary import FORGED_BOUNDARY
from mailmoat.scanner.domain.rules.code_insertion import CODE_INSERTION
from mailmoat.scanner.domain.rules.deobfuscate import DEOBFUSCATION_DECODER
from mailmoat.scanner.domain.rules.drop_sites import DROP_SITE
from mailmoat.scanner.domain.rules.encoded import ENCODED_DECODER, ENCODED_PAYLOAD
from mailmoat.scanner.domain.rules.exfil_forward import FORWARD_TO_ADDRESS
from mailmoat.scanner.domain.rules.exfil_url import EXFIL_URL
from mailmoat.scanner.domain.rules.fullwidth import FULLWIDTH_DECODER
from mailmoat.scanner.domain.rules.hidden import HIDDEN_ACTION
from mailmoat.scanner.domain.rules.hidden_addressed import ADDRESSED_IN_HIDDEN
from mailmoat.scanner.domain.rules.hidden_labels import LABELS_IN_HIDDEN
from mailmoat.scanner.domain.rules.hidden_links import HIDDEN_LINK
from mailmoat.scanner.domain.rules.hidden_orders import ORDERS_IN_HIDDEN
from mailmoat.scanner.domain.rules.invisible import INVISIBLE_DECODER, INVISIBLE_SPLIT
from mailmoat.scanner.domain.rules.mismatch import TEXT_HTML_MISMATCH
from mailmoat.scanner.domain.rules.multilingual import (
    EXFIL_MULTILINGUAL,
    OVERRIDE_MULTILINGUAL,
    ROLE_PLAY_MULTILINGUAL,
)
from mailmoat.scanner.domain.rules.output import OUTPUT_MANIPULATION
from mailmoat.scanner.domain.rules.outward import OUTWARD_ACTION, OUTWARD_REQUEST
from mailmoat.scanner.domain.rules.override import OVERRIDE
from mailmoat.scanner.domain.rules.prompt_leak import PROMPT_LEAK
from mailmoat.scanner.domain.rules.role_tokens import ROLE_TOKEN
from mailmoat.scanner.domain.rules.roleplay import JAILBREAK, ROLE_PLAY
from mailmoat.scanner.domain.rules.safety_bypass import SAFETY_BYPASS
from mailmoat.scanner.domain.rules.secrets import SECRET_REQUEST
from mailmoat.scanner.domain.rules.tags import TAG_BLOCK, TAG_DECODER
from mailmoat.scanner.domain.rules.tool_calls import TOOL_CALL

SEGMENT_RULES: tuple[SegmentRule, ...] = (
    ROLE_TOKEN,
    OVERRIDE,
    OVERRIDE_MULTILINGUAL,
    FORGED_BOUNDARY,
    SAFETY_BYPASS,
    PROMPT_LEAK,
    FAKE_AUTHORITY,
    TAG_BLOCK,
    TOOL_CALL,
    OUTPUT_MANIPULATION,
    CODE_INSERTION,
    EXFIL_URL,
    FORWARD_TO_ADDRESS,
    OUTWARD_REQUEST,
    OUTWARD_ACTION,
    EXFIL_MULTILINGUAL,
    BIDI_CONTROL,
    ADDRESSED_TO_AI,
    MENTIONS_AI,
    ROLE_PLAY,
    ROLE_PLAY_MULTILINGUAL,
    JAILBREAK,
    ADDRESSED_IN_HIDDEN,
    ORDERS_IN_HIDDEN,
    LABELS_IN_HIDDEN,
    HIDDEN_LINK,
    HIDDEN_ACTION,
    SECRET_REQUEST,
    DROP_SITE,
    INVISIBLE_SPLIT,
    ENCODED_PAYLOAD,
)
CONTENT_RULES: tuple[ContentRule, ...] = (TEXT_HTML_MISMATCH,)
DECODERS: tuple[Decoder, ...] = (
    TAG_DECODER,
    BIDI_DECODER,
    INVISIBLE_DECODER,
    ENCODED_DECODER,
    FULLWIDTH_DECODER,
    DEOBFUSCATION_DECODER,
)

__all__ = ["CONTENT_RULES", "DECODERS", "SEGMENT_RULES"]
