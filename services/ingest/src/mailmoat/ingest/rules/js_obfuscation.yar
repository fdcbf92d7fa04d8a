// JavaScript that decodes and runs hidden code, typical of malicious attachments and pages.

rule js_eval_decoded
{
    meta:
        description = "JavaScript evaluating decoded text (eval(atob(...)), eval(unescape(...)))"
    strings:
        $a = /\beval\s*\(\s*(window\.)?(atob|unescape|decodeURIComponent|String\.fromCharCode)\s*\(/ nocase
        $b = /\bnew\s+Function\s*\(\s*(window\.)?(atob|unescape|decodeURIComponent)\s*\(/ nocase
        $c = /document\.write\s*\(\s*(unescape|atob)\s*\(/ nocase
    condition:
        any of them
}

rule js_charcode_payload
{
    meta:
        description = "JavaScript building a long payload from character codes"
    strings:
        $a = /String\.fromCharCode\s*\(\s*(\d{2,3}\s*,\s*){60,}/ nocase
    condition:
        $a
}
