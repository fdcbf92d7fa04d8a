// Script droppers (VBScript, JScript, WSH) that download a file, save it and run it.

rule dropper_wsh_download_execute
{
    meta:
        description = "Windows Script Host dropper: HTTP download, file write and shell run"
    strings:
        $http1 = "MSXML2.XMLHTTP" nocase
        $http2 = "MSXML2.ServerXMLHTTP" nocase
        $http3 = "WinHttp.WinHttpRequest" nocase
        $save1 = "ADODB.Stream" nocase
        $save2 = "SaveToFile" nocase
        $run1 = "WScript.Shell" nocase
        $run2 = "Shell.Application" nocase
    condition:
        any of ($http*) and all of ($save*) and any of ($run*)
}

rule dropper_wscript_shell_run
{
    meta:
        description = "Script creating WScript.Shell and running a command interpreter"
    strings:
        $obj = /(CreateObject|ActiveXObject)\s*\(\s*["']WScript\.Shell["']\s*\)/ nocase
        $cmd = /\.(Run|Exec)\s*\(?\s*["'][^"'\r\n]{0,40}(cmd(\.exe)?\s+\/c|powershell)/ nocase
    condition:
        $obj and $cmd
}
