// PowerShell one-liners that fetch and run code: the usual second stage of a mail-borne attack.

rule powershell_download_cradle
{
    meta:
        description = "PowerShell download cradle (Invoke-Expression of downloaded code)"
    strings:
        $iex1 = /\bIEX\s*\(/ nocase
        $iex2 = "Invoke-Expression" nocase
        $iex3 = /\|\s*IEX\b/ nocase
        $dl1 = /Net\.WebClient\s*\)\s*\.\s*Download(String|Data|File)\s*\(/ nocase
        $dl2 = /\b(Invoke-WebRequest|iwr|Invoke-RestMethod|irm)\s+[^\r\n]{0,40}https?:\/\// nocase
        $dl3 = "Start-BitsTransfer" nocase
    condition:
        any of ($iex*) and any of ($dl*)
}

rule powershell_encoded_command
{
    meta:
        description = "PowerShell started with a base64-encoded command"
    strings:
        $enc = /powershell(\.exe)?[^\r\n]{0,80}\s-e(nc|ncodedcommand|c)?\s+[A-Za-z0-9+\/=]{40,}/ nocase
    condition:
        $enc
}

rule powershell_hidden_bypass
{
    meta:
        description = "PowerShell launched hidden with the execution policy bypassed"
    strings:
        $ps = /powershell(\.exe)?\s[^\r\n]{0,120}-w(indowstyle)?\s+hidden/ nocase
        $bypass = /-exec(utionpolicy)?\s+bypass/ nocase
    condition:
        $ps and $bypass
}
