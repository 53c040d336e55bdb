"""Strict parse of one RFC 5322 message with Python's email package (policy=default).

Usage: /usr/bin/python3 check_mime.py FILE.eml
Prints JSON: every defect found (on any part, and on any header), and what a mail client would
show (decoded subject, the text and html bodies, Reply-To, List-Unsubscribe).
"""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    msg = email.message_from_bytes(f.read(), policy=email.policy.default)

defects = []
types = []
for part in msg.walk():
    types.append(part.get_content_type())
    defects += [f"{part.get_content_type()}: {type(d).__name__}" for d in part.defects]
    for name, value in part.items():
        defects += [f"{name}: {type(d).__name__}" for d in getattr(value, "defects", ())]

body_plain = msg.get_body(preferencelist=("plain",))
body_html = msg.get_body(preferencelist=("html",))
print(json.dumps({
    "defects": defects,
    "types": types,
    "subject": str(msg["subject"]),
    "from": str(msg["from"]),
    "reply_to": str(msg["reply-to"]) if msg["reply-to"] else None,
    "list_unsubscribe": str(msg["list-unsubscribe"]) if msg["list-unsubscribe"] else None,
    # Line ends as a reader sees them: LF.
    "text": body_plain.get_content().replace("\r\n", "\n") if body_plain else None,
    "html": body_html.get_content().replace("\r\n", "\n") if body_html else None,
}))
