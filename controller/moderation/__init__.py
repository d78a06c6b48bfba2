"""What may appear on a public screen: the gate between aggregation and the feed.

Aggregation counts every post (the KPIs must stay honest); only the posts that
the wall shows verbatim, in the `feed` and `ticker` widgets, pass through the
`moderator.Moderator` first:

    source -> aggregation (everything)
           -> Moderator.screen -> show (masked) | hide (reason) | queue (approval)

A `policy.ModerationPolicy` says what to mask (`profanity`), hide or hold for
approval; a stricter tour policy applies while a visitor tour runs. Every post
hidden, approved, rejected or dropped from the queue is written to the
`audit.AuditLog` with who did it and why, so an operator can answer "why did
that post not show?".
"""
