#!/usr/bin/env python3
"""Start moto's server on loopback after patching a few gaps of moto 5.2.x.

Usage: python3 local/moto_launcher.py [--host 127.0.0.1] [--port 0] [--port-file FILE]
                                     [--default-account ID]

--port 0 (the default) binds a free port; the port actually bound is written
to --port-file (and printed) once the server accepts connections, so the
caller has no race between picking a port and binding it.

Patches (each one is small and documented in local/README.md; 8 lives in moto_ecr_mirror.py and
10 in moto_stack_sets.py, beside this file):

1. ChangeSet.apply (CloudFormation): moto applies a change set's resources but
   never rebuilds the stack's template_dict / OutputMap / parameters, so a
   stack created through a CREATE change set has no Outputs and one updated
   through an UPDATE change set keeps stale Parameters and Outputs. After the
   original apply we re-parse the template and rebuild outputs, parameters,
   description, tags and exports.
   ChangeSet.diff also passes the parameters, so DescribeChangeSet lists
   Modify for resources whose referenced parameter changed (moto listed no
   change for a parameter-only update, although executing it did update).
2. CloudFormationBackend.execute_change_set: a change set that is not
   AVAILABLE is refused (InvalidChangeSetStatus, as AWS does), and a failing
   apply no longer surfaces as an HTTP 500 from ExecuteChangeSet: the stack
   goes to ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE with a *_FAILED event
   carrying the reason (AWS reports execution failures asynchronously).
   After a successful execute, the stack's other change sets are deleted, as
   AWS does (they no longer apply to the updated stack). Executing also sets
   the stack's ChangeSetId and (UPDATE) LastUpdatedTime, which moto 5.2.1's
   DescribeStacks lacks: the action tells its own change set's result from
   another run's by ChangeSetId, and a stale read from a fresh one by both.
3. CreateChangeSet with an unchanged TemplateBody+Parameters raised a
   ValidationError "No updates are to be performed." in moto; AWS creates the
   change set and puts it into FAILED with "The submitted information didn't
   contain changes...". moto already does the latter for TemplateURL, so the
   early check is skipped for CreateChangeSet (UpdateStack keeps it).
4. DeleteChangeSet of an unknown name crashed with UnboundLocalError (500);
   now a ValidationError "ChangeSet [x] does not exist".
5. ECR GetAuthorizationToken: moto answers expiresAt = 2015-01-01 (already
   expired); we answer now + 12 h. Token/proxyEndpoint are unchanged:
   base64("AWS:<registryId>-auth-token"), https://<id>.dkr.ecr.<region>.amazonaws.com
6. TemplateURL keys are URL-decoded (moto used the raw path, so a key with
   %-escapes was not found); ?versionId= is accepted (moto returns the latest
   version, which is what the action uploaded last).
8. --ecr-mirror ADDR:PORT --ecr-mirror-ca FILE: moto's ECR API does not know what the
   world's registries hold (docker push and the registry copy speak the registry API).
   Each registry sends its push notifications (local/world/registries.sh) to a small
   listener on ADDR:PORT, which reads the pushed manifest back from that registry (TLS
   checked with FILE) and records it in moto's ECR backend of the registry's account
   and region, with its tag and the push time: DescribeImages then lists what the
   registries hold. A tag moved to another digest leaves the old image untagged (as ECR
   does; moto's PutImage deleted it), and the registry is the truth: tag mutability is
   not enforced here (ECR enforces it at the registry API, the world's registry cannot).
9. ECR PutLifecyclePolicy: moto's validator knew only `expire` rules counted by
   `imageCountMoreThan` / `sinceImagePushed`; archive rules (`transition` with
   `targetStorageClass`, `storageClass`, `sinceImagePulled`, `sinceImageTransitioned`)
   are accepted too, as ECR does. moto still stores policies and never runs them.
7. --default-account ID: the account of a request whose access key moto did not issue
   (e.g. the world's "testing" key); moto's own default is 123456789012. Keys from
   `sts assume-role` keep the account of the assumed role, so one server serves several
   accounts. (MOTO_ACCOUNT_ID would pin every request to one account: world.sh unsets it.)
10. StackSets (self-managed): an instance's stack is named as AWS names it,
   StackSet-<name>-<uuid> (moto: "StackSet:<name>", whose colon ends up in the
   names of the stack's resources, e.g. a Lambda function GetFunction cannot
   find), and List/DescribeStackInstance(s) report that stack's real StackId
   (moto: a new random one on every call). UpdateStackSet updates every
   instance's stack with the new template and parameters (moto changed only
   its own record, and later instances got the old template), and its
   operation's results list those instances.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
import threading
import time
import traceback
from urllib.parse import unquote


def apply_patches() -> None:
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation import utils as cfn_utils
    from moto.cloudformation.exceptions import CloudFormationError, ValidationError
    from moto.core.responses import ActionResult
    from moto.ecr import responses as ecr_responses

    ChangeSet = cfn_models.ChangeSet
    Backend = cfn_models.CloudFormationBackend

    # -- 1. ChangeSet.apply rebuilds outputs and parameters -----------------
    orig_apply = ChangeSet.apply
    if not getattr(orig_apply, "_local_world_patched", False):

        def apply(self) -> None:  # type: ignore[no-untyped-def]
            stack = self.stack
            rmap = stack.resource_map
            # Parameters omitted from the change set fall back to template
            # defaults (AWS semantics); moto would keep the previous inputs.
            if not self.parameters:
                rmap.input_parameters = {}
            # Drop parameters of the previous template; load_parameters()
            # (called by update) refills from the new template.
            rmap.resolved_parameters = {}
            orig_apply(self)
            stack.template = self.template
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.parameters = dict(self.parameters or {})
            if self.tags:
                stack.tags = dict(self.tags)
            if self.role_arn:
                stack.role_arn = self.role_arn
            stack.output_map = stack._create_output_map()
            # Keep the account/region-wide export list in step with the stack.
            backend = cfn_models.cloudformation_backends[stack.account_id][
                stack.region_name
            ]
            for name, export in list(backend.exports.items()):
                if export.exporting_stack_id == stack.stack_id:
                    del backend.exports[name]
            for export in stack.exports:
                backend.exports[export.name] = export

        apply._local_world_patched = True  # type: ignore[attr-defined]
        ChangeSet.apply = apply

        # DescribeChangeSet lists no change for a parameter-only update
        # (moto diffs templates only); AWS lists Modify for resources that
        # reference a changed parameter. Diff with the parameters too.
        def diff(self):  # type: ignore[no-untyped-def]
            rmap = self.stack.resource_map
            names = rmap.build_resource_diff(self.template_dict, self.parameters)
            new = self.template_dict.get("Resources") or {}
            old = rmap._resource_json_map
            changes = []
            for action in ("Add", "Modify", "Remove"):
                for name in dict.fromkeys(names[action]):
                    src = old if action == "Remove" else new
                    changes.append(cfn_models.Change(action, name, src[name]["Type"]))
            return changes

        ChangeSet.diff = diff

    # -- 2. execute_change_set: status check + failures as rollback ---------
    class InvalidChangeSetStatus(CloudFormationError):
        code = "InvalidChangeSetStatus"

    orig_execute = Backend.execute_change_set
    if not getattr(orig_execute, "_local_world_patched", False):

        def _find(backend, change_set_name):  # type: ignore[no-untyped-def]
            if change_set_name in backend.change_sets:
                return backend.change_sets[change_set_name]
            for cs in backend.change_sets.values():
                if cs.change_set_name == change_set_name:
                    return cs
            return None

        def execute_change_set(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
            cs = _find(self, change_set_name)
            if cs is None:
                raise ValidationError(
                    message=f"ChangeSet [{change_set_name}] does not exist"
                )
            if cs.execution_status != "AVAILABLE":
                raise InvalidChangeSetStatus(
                    f"ChangeSet [{cs.change_set_id}] cannot be executed in its "
                    f"current status of [{cs.status}]"
                )
            # AWS's DescribeStacks names the change set the stack last ran (ChangeSetId)
            # and, after an update, when it started (LastUpdatedTime); moto has neither.
            ran = self.stacks.get(cs.stack_id)
            if ran is not None:
                ran.change_set_id = cs.change_set_id
                if cs.change_set_type == "UPDATE":
                    ran.last_updated_time = datetime.datetime.now(datetime.timezone.utc)
            try:
                result = orig_execute(self, change_set_name, stack_name)
            except Exception as exc:  # noqa: BLE001 - report as a failed deployment
                traceback.print_exc()
                stack = self.stacks.get(cs.stack_id)
                if stack is None:
                    raise
                reason = f"{type(exc).__name__}: {exc}"
                if cs.change_set_type == "CREATE":
                    stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
                    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
                    stack._add_stack_event("ROLLBACK_COMPLETE")
                    stack.status = "ROLLBACK_COMPLETE"
                else:
                    stack._add_stack_event("UPDATE_FAILED", resource_status_reason=reason)
                    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
                    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
                    stack.status = "UPDATE_ROLLBACK_COMPLETE"
                cs.execution_status = "EXECUTE_FAILED"
                cs.status_reason = reason
                return None
            # AWS deletes a stack's other change sets once one is executed: they no
            # longer apply to the updated stack (moto keeps them executable).
            for other_id, other in list(self.change_sets.items()):
                if other is not cs and other.stack_id == cs.stack_id:
                    del self.change_sets[other_id]
            return result

        execute_change_set._local_world_patched = True  # type: ignore[attr-defined]
        Backend.execute_change_set = execute_change_set

    # -- 3. CreateChangeSet with unchanged body -> FAILED change set ---------
    Resp = cfn_responses.CloudFormationResponse
    orig_validate = Resp._validate_different_update
    if not getattr(orig_validate, "_local_world_patched", False):

        def _validate_different_update(self, incoming_params, stack_body, old_stack):  # type: ignore[no-untyped-def]
            if self._get_action() == "CreateChangeSet":
                return None
            return orig_validate(self, incoming_params, stack_body, old_stack)

        _validate_different_update._local_world_patched = True  # type: ignore[attr-defined]
        Resp._validate_different_update = _validate_different_update

    # -- 4. DeleteChangeSet of an unknown name ------------------------------
    orig_delete_cs = Backend.delete_change_set
    if not getattr(orig_delete_cs, "_local_world_patched", False):

        def delete_change_set(self, change_set_name):  # type: ignore[no-untyped-def]
            if change_set_name not in self.change_sets and not any(
                cs.change_set_name == change_set_name for cs in self.change_sets.values()
            ):
                raise ValidationError(
                    message=f"ChangeSet [{change_set_name}] does not exist"
                )
            return orig_delete_cs(self, change_set_name)

        delete_change_set._local_world_patched = True  # type: ignore[attr-defined]
        Backend.delete_change_set = delete_change_set

    # -- 5. ECR GetAuthorizationToken expiresAt -----------------------------
    from base64 import b64encode

    def get_authorization_token(self):  # type: ignore[no-untyped-def]
        registry_ids = self._get_param("registryIds") or [self.current_account]
        data = []
        for registry_id in registry_ids:
            token = b64encode(f"AWS:{registry_id}-auth-token".encode("ascii")).decode()
            data.append(
                {
                    "authorizationToken": token,
                    "expiresAt": time.time() + 12 * 3600,
                    "proxyEndpoint": f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com",
                }
            )
        return ActionResult({"authorizationData": data})

    ecr_responses.ECRResponse.get_authorization_token = get_authorization_token

    # -- 6. TemplateURL key decoding ----------------------------------------
    orig_get_stack = cfn_utils.get_stack_from_s3_url
    if not getattr(orig_get_stack, "_local_world_patched", False):

        def get_stack_from_s3_url(template_url, account_id, partition):  # type: ignore[no-untyped-def]
            from urllib.parse import urlparse, urlunparse

            parts = urlparse(template_url)
            decoded = urlunparse(parts._replace(path=unquote(parts.path), query="", fragment=""))
            return orig_get_stack(decoded, account_id=account_id, partition=partition)

        get_stack_from_s3_url._local_world_patched = True  # type: ignore[attr-defined]
        cfn_utils.get_stack_from_s3_url = get_stack_from_s3_url
        cfn_responses.get_stack_from_s3_url = get_stack_from_s3_url
        cfn_models.get_stack_from_s3_url = get_stack_from_s3_url


def accept_archive_rules() -> None:
    """Patch 9: PutLifecyclePolicy accepts ECR's archive rules (the validator reads these globals)."""
    from moto.ecr import policy_validation as pv

    pv.VALID_ACTION_PROPERTIES = {"type", "targetStorageClass"}
    pv.VALID_ACTION_TYPE_VALUES = {"expire", "transition"}
    pv.VALID_SELECTION_PROPERTIES = {*pv.VALID_SELECTION_PROPERTIES, "storageClass"}
    pv.VALID_SELECTION_COUNT_TYPE_VALUES = {
        "imageCountMoreThan",
        "sinceImagePushed",
        "sinceImagePulled",
        "sinceImageTransitioned",
    }
def set_default_account(account_id: str) -> None:
    """Patch 7: moto answers requests with keys it did not issue as `account_id`."""
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise SystemExit(f"moto_launcher: --default-account {account_id!r}: give 12 digits")
    from moto.iam import models as iam_models

    # get_account_id_from() (the access key -> account lookup) falls back to this global.
    iam_models.DEFAULT_ACCOUNT_ID = account_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    parser.add_argument("--port-file", default=None)
    parser.add_argument("--default-account", default=None)
    parser.add_argument("--ecr-mirror", default=None)
    parser.add_argument("--ecr-mirror-ca", default=None)
    args = parser.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("moto_launcher: refusing to bind a non-loopback address", file=sys.stderr)
        return 2

    apply_patches()
    accept_archive_rules()
    from moto_stack_sets import patch_stack_sets  # beside this file (patch 10)

    patch_stack_sets()
    if args.default_account:
        set_default_account(args.default_account)
    if args.ecr_mirror:
        from moto_ecr_mirror import start_ecr_mirror  # beside this file (patch 8)

        start_ecr_mirror(args.ecr_mirror, args.ecr_mirror_ca or "")

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True)
    port = server.server_address[1]
    # moto builds some URLs (e.g. presigned URLs) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    def stop(_signum, _frame):  # type: ignore[no-untyped-def]
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"moto_launcher: listening on http://{args.host}:{port}", flush=True)
    server.serve_forever(poll_interval=0.1)
    print("moto_launcher: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
