"""Entry point Pulumi runs (`pulumi up` in this folder)."""
from keyguard_stack.program import define

define()
