/// What the model is told about when to notify. The tool descriptions carry the short
/// form; the `mcp-push-guidelines` prompt carries it in full.
enum Guidelines {
    static let sendDescription = """
        Push a notification to the user's phone or chat (every channel they configured: Bark, DingTalk, \
        Feishu, Telegram, WeCom, ntfy, e-mail, ...). The user is away from the screen and relies on this. \
        Call it when a long-running task has finished (say whether it succeeded or failed and the key result), \
        when a task failed and cannot continue, or when you need the user's decision or input to go on. \
        Do not call it when a task starts, for routine progress, for trivial or quick steps, or more than once \
        for the same outcome. Keep the title short (under ~30 characters, it is what shows on the lock screen) \
        and the content to a few lines. The result lists each channel and whether the service accepted it.
        """

    static let eventDescription = """
        Report a lifecycle event of a long-running run (an agent task, a build, a training job) identified by \
        run_id. By default only `end` and `error` are pushed to the user; `start` and `update` are recorded \
        (so the final push can say how long the run took) and answered with status `skipped`. \
        Send `start` when a long run begins, `end` when it finishes (with the outcome in `message`), \
        `error` when it fails, and `update` only for rare, meaningful milestones. Do not send an event for \
        every step or short task, and do not send `end` twice for the same run. Put details in `data`: \
        `progress` (0 to 1), `step`, `artifact_url` (a link the user can open), `error_code`, or any other keys.
        """

    static let prompt = """
        # When to notify the user (mcp-push)

        The user has walked away and asked to be told what matters. A notification interrupts them \
        (a phone buzz, a chat ping), so send one only when it is worth that.

        ## Notify
        - A long task finished (more than a few minutes, or anything the user said they are waiting for): \
        say whether it succeeded or failed and the one result that matters (tests passed, PR opened, \
        deployment live, what broke).
        - A task failed and you cannot continue without the user.
        - You need a decision, an approval, credentials or other input to go on.

        ## Do not notify
        - When a task starts, or for routine progress ("step 3 of 10", "still running").
        - For trivial or quick steps the user will see anyway when they come back.
        - Twice for the same outcome.

        ## How
        - `notify_send(title, content)`: one message. Title short (under ~30 characters, shown on the lock \
        screen): "✅ Tests pass", "❌ Deploy failed", "❓ Need approval". Content: a few lines: what happened, \
        the key number or link, what you need from the user if anything.
        - `notify_event(run_id, event, message, data)` for tracked runs: send `start` when a long run begins \
        (not pushed by default, but it lets the final push say how long the run took), then `end` or `error` \
        once. Use `update` sparingly; it is not pushed unless the user enabled it. `data` may carry \
        `progress` (0 to 1), `step`, `artifact_url` and `error_code`.
        - Read the result: `status` is `success`, `partial_success` (some channels failed: see `errors`), \
        `error` (nothing was delivered), `queued` (a service is down or rate-limited; mcp-push keeps the \
        message and delivers it in the background, so do not send it again) or `skipped` (deliberately not \
        pushed: event policy or a duplicate). Do not retry a `skipped` or `queued` call; after an `error`, tell \
        the user in your reply what the notification said and why it failed.
        """
}
