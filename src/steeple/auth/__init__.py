"""Identity: JWT to Principal, permissions, host-chat room ids, address pseudonyms."""

from steeple.auth.principal import ANONYMOUS, Principal, decode_token, issue_token

__all__ = ["ANONYMOUS", "Principal", "decode_token", "issue_token"]
