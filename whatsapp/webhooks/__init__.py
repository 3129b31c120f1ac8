"""Meta's webhooks: intake (verify, store, ACK), processing (route, dispatch), dead letters, replay."""
