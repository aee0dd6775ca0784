"""keyguard: policy-as-code compliance for encryption-key storage of AI applications on AWS with Vault."""
__version__ = "0.1.0"
