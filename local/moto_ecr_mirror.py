"""Patch 8 of local/moto_launcher.py: the ECR mirror.

moto's ECR API does not know what the world's registries hold (docker push and the registry copy
speak the registry API). Each registry sends its push notifications (local/world/registries.sh) to
the listener started here, which reads the pushed manifest back from that registry (TLS checked
with the world's CA) and records it in moto's ECR backend of the registry's account and region.
"""

from __future__ import annotations

import threading
import traceback


def mirror_push(event: dict, ca_file: str) -> str:
    """Patch 8: records one registry push event in moto's ECR backend; returns what it did."""
    import json
    import re
    import ssl
    import urllib.request

    from moto.ecr.models import Image, ecr_backends

    target = event.get("target", {})
    url = target.get("url", "")
    match = re.match(r"^https://(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/", url)
    if event.get("action") != "push" or match is None or "digest" not in target:
        return "ignored"
    account, region = match.groups()
    backend = ecr_backends[account][region]
    name, digest, tag = target.get("repository"), target["digest"], target.get("tag")
    repository = backend.repositories.get(name)
    if repository is None:
        return f"ignored: no ECR repository {name} in {account} {region}"
    request = urllib.request.Request(url, headers={"Accept": target.get("mediaType", "*/*")})
    token = __import__("base64").b64encode(f"AWS:{account}-auth-token".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        manifest = response.read().decode("utf-8")
    json.loads(manifest)
    if tag:
        for other in repository.images:
            if tag in other.image_tags and other.get_image_digest() != digest:
                other.remove_tag(tag)
                if not other.image_tags:
                    other.image_tag = None
    image = next((i for i in repository.images if i.get_image_digest() == digest), None)
    if image is None:
        image = Image(account, tag, manifest, name, target.get("mediaType"), digest)
        repository.images.append(image)
    elif tag:
        image.update_tag(tag)
    return f"recorded {account} {region} {name}@{digest} {tag or '(untagged)'}"


def start_ecr_mirror(address: str, ca_file: str) -> None:
    """Patch 8: the listener the registries send their notifications to."""
    import json

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    host, port = address.rsplit(":", 1)

    @Request.application
    def app(request):  # type: ignore[no-untyped-def]
        try:
            envelope = json.loads(request.get_data() or b"{}")
        except ValueError:
            return Response("not JSON", status=400)
        for event in envelope.get("events", []):
            try:
                print(f"ecr-mirror: {mirror_push(event, ca_file)}", flush=True)
            except Exception:  # the registry retries a failed delivery; log and go on
                traceback.print_exc()
        return Response("", status=200)

    server = make_server(host, int(port), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"moto_launcher: ECR mirror listening on http://{address}", flush=True)
