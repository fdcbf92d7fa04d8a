// Server-side webshell markers: request data evaluated as code.

rule webshell_php_eval_request
{
    meta:
        description = "PHP webshell: request input or decoded data passed to eval/assert/system"
    strings:
        $a = /\b(eval|assert|system|passthru|shell_exec|exec)\s*\(\s*\$_(POST|GET|REQUEST|COOKIE|SERVER)\s*\[/ nocase
        $b = /\beval\s*\(\s*(base64_decode|gzinflate|gzuncompress|str_rot13)\s*\(/ nocase
    condition:
        any of them
}

rule webshell_jsp_exec_request
{
    meta:
        description = "JSP webshell: a request parameter run through Runtime.exec"
    strings:
        $a = /Runtime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(\s*request\.getParameter/
    condition:
        $a
}

rule webshell_asp_eval_request
{
    meta:
        description = "ASP webshell: Request data passed to Eval/Execute"
    strings:
        $a = /\b(eval|execute|executeglobal)\s*\(?\s*request(\.form|\.querystring)?\s*\(/ nocase
    condition:
        $a
}
