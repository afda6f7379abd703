"""The portal's use cases: what a person does, in terms of intake's API and the portal's
own tables (sessions, drafts, kept forms). Pages call these; these never render."""
