"""An agent with no API key, in Python: reads a repository, then tries to delete it, with the
library named on the command line (urllib, requests, httpx or aiohttp). One JSON line per call."""
import hashlib
import json
import os
import sys

REPO = "https://api.github.com/repos/acme/widgets"
HEADERS = {"user-agent": "tf-e2e-agent", "accept": "application/vnd.github+json"}
library = sys.argv[1]


def report(call, status, headers, text):
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    print(json.dumps({"call": call, "status": status, "contentType": headers.get("content-type"), "shouldRetry": headers.get("x-should-retry"), "body": body}), flush=True)


if library == "urllib":
    import urllib.error
    import urllib.request

    for call, method in (("read", "GET"), ("delete", "DELETE")):
        req = urllib.request.Request(REPO, method=method, headers=HEADERS)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                report(call, r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode())
        except urllib.error.HTTPError as e:
            report(call, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode())
elif library == "requests":
    import requests

    for call, method in (("read", "GET"), ("delete", "DELETE")):
        r = requests.request(method, REPO, headers=HEADERS, timeout=30)
        report(call, r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text)
elif library == "httpx":
    import httpx

    with httpx.Client(timeout=30) as client:
        for call, method in (("read", "GET"), ("delete", "DELETE")):
            r = client.request(method, REPO, headers=HEADERS)
            report(call, r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text)
elif library == "aiohttp":
    import asyncio

    import aiohttp

    async def main():
        # No trust_env here: tf run's shim makes aiohttp honour the proxy anyway.
        async with aiohttp.ClientSession() as session:
            for call, method in (("read", "GET"), ("delete", "DELETE")):
                async with session.request(method, REPO, headers=HEADERS) as r:
                    report(call, r.status, {k.lower(): v for k, v in r.headers.items()}, await r.text())

    asyncio.run(main())
else:
    sys.exit("unknown library " + library)

secret_hash = os.environ.get("TF_E2E_SECRET_SHA256")
leaked = any(hashlib.sha256(v.encode()).hexdigest() == secret_hash for v in os.environ.values())
print(json.dumps({"call": "env", "python": sys.version.split()[0], "secretInEnvironment": leaked}), flush=True)
