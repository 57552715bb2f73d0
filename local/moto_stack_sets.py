"""Patch 10 of local/moto_launcher.py: self-managed stack sets as AWS runs them.

An instance's stack is named as AWS names it (StackSet-<name>-<uuid>), List/DescribeStackInstance(s)
report that stack's real StackId, and UpdateStackSet updates every instance's stack.
"""

from __future__ import annotations

def patch_stack_sets() -> None:
    """Patch 10: stack set instances as real, AWS-named stacks that follow UpdateStackSet."""
    from moto.cloudformation import models as cfm
    from moto.moto_api._internal import mock_random

    instance_class = cfm.StackInstance
    if getattr(instance_class.__init__, "_local_world_patched", False):
        return
    orig_init = instance_class.__init__

    def init(self, account_id, region_name, stackset_id, stack_name, name, template, parameters, permission_model):  # type: ignore[no-untyped-def]
        if permission_model != "SELF_MANAGED":
            return orig_init(self, account_id, region_name, stackset_id, stack_name, name, template, parameters, permission_model)
        self.account_id = account_id
        self.region_name = region_name
        self.stackset_id = stackset_id
        self.stack_name = stack_name
        self.name = name
        self.template = template
        self.parameters = parameters or []
        self.permission_model = permission_model
        if isinstance(parameters, dict):
            params = parameters
        else:
            params = {p["ParameterKey"]: p["ParameterValue"] for p in parameters or []}
        backend = cfm.cloudformation_backends[account_id][region_name]
        self.stack = backend.create_stack(
            name=f"StackSet-{name}-{mock_random.uuid4()}", template=template, parameters=params
        )

    orig_to_dict = instance_class.to_dict

    def to_dict(self):  # type: ignore[no-untyped-def]
        out = orig_to_dict(self)
        if self.permission_model == "SELF_MANAGED":
            out["StackId"] = self.stack.stack_id
        return out

    orig_update = cfm.StackSet.update

    def update(self, template, description, parameters, tags, admin_role, execution_role, accounts, regions, operation_id):  # type: ignore[no-untyped-def]
        operation = orig_update(self, template, description, parameters, tags, admin_role, execution_role, accounts, regions, operation_id)
        self.instances.template = self.template
        self.instances.parameters = self.parameters
        targets = [
            i
            for i in self.instances.stack_instances
            if (not accounts or i.account_id in accounts) and (not regions or i.region_name in regions)
        ]
        params = [{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()]
        for instance in targets:
            if instance.permission_model != "SELF_MANAGED":
                continue
            backend = cfm.cloudformation_backends[instance.account_id][instance.region_name]
            backend.update_stack(name=instance.stack.name, template=self.template, role_arn=None, parameters=params, tags=None)
            instance.template = self.template
        operation["Instances"] = [{i.account_id: i.region_name} for i in targets]
        return operation

    init._local_world_patched = True  # type: ignore[attr-defined]
    instance_class.__init__ = init
    instance_class.to_dict = to_dict
    cfm.StackSet.update = update
