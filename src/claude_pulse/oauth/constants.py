"""Fixed protocol values (protocol.md §1-§3). URLs that may change are config keys instead."""

from __future__ import annotations

# Claude Code's public OAuth client id (protocol.md §1.1). There is no client secret: PKCE.
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
SCOPES = "user:inference user:profile"
# The copy/paste flow: Anthropic's page shows `code#state` for the user to paste back.
MANUAL_REDIRECT_URI = "https://platform.claude.com/oauth/code/callback"
CALLBACK_PATH = "/callback"
# Without this header the usage endpoint answers 401 (protocol.md §3.1).
OAUTH_BETA = "oauth-2025-04-20"
