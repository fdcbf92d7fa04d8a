// Signed Windows binaries abused to fetch and run remote code ("living off the land").

rule lolbin_mshta_remote
{
    meta:
        description = "mshta running a remote or inline script"
    strings:
        $a = /mshta(\.exe)?["']?\s+["']?(https?:\/\/|javascript:|vbscript:)/ nocase
    condition:
        $a
}

rule lolbin_regsvr32_scriptlet
{
    meta:
        description = "regsvr32 loading a remote scriptlet (/i:http, scrobj.dll)"
    strings:
        $a = /regsvr32(\.exe)?\s[^\r\n]{0,80}\/i:\s*["']?https?:\/\// nocase
        $b = /regsvr32(\.exe)?\s[^\r\n]{0,120}scrobj(\.dll)?/ nocase
    condition:
        any of them
}

rule lolbin_certutil_download
{
    meta:
        description = "certutil used to download or decode a payload"
    strings:
        $a = /certutil(\.exe)?\s[^\r\n]{0,40}-urlcache[^\r\n]{0,40}https?:\/\// nocase
        $b = /certutil(\.exe)?\s[^\r\n]{0,20}-decode\s/ nocase
    condition:
        any of them
}

rule lolbin_rundll32_script
{
    meta:
        description = "rundll32 running inline script (javascript: / mshtml RunHTMLApplication)"
    strings:
        $a = /rundll32(\.exe)?\s[^\r\n]{0,40}javascript:/ nocase
        $b = "RunHTMLApplication" nocase
    condition:
        any of them
}
