"""QuickBooks Online: client (wire), tokens (OAuth), mapping (records -> documents), target (the Target)."""

from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.targets.qbo.tokens import QboTokens, SecretsManagerTokenStore, Tokens, TokenStore

__all__ = ["QboClient", "QboTarget", "QboTokens", "SecretsManagerTokenStore", "TokenStore", "Tokens"]
