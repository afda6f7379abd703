"""Messaging plumbing every service uses identically: the transactional outbox and its relay,
the inbox that makes consumers idempotent, and dead-lettering. It carries the contracts in
``shared.events``; it holds no domain logic."""
