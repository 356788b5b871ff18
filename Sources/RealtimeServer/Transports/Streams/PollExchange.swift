import Hummingbird
import RealtimeCore
import ServiceLifecycle

/// One `/poll` request: subscribe, answer at once when there is something to say (messages
/// after the positions, or a position that is not covered), else hold the request until a
/// message comes, the timeout passes, the client leaves or the server shuts down.
struct PollExchange: Sendable {
    let state: ServerState
    let subscriptions: [Subscription]
    let timeout: Double

    func run(request: Request) async throws -> Response {
        let subscriber = state.makeSubscriberID()
        let mailbox = state.makeMailbox()
        var assembler = PollAssembler(subscriptions: subscriptions, maxMessages: state.configuration.limits.maxQueuedMessages)
        var held = false
        do {
            // One subscription at a time, its replay taken before the next one starts.
            for subscription in subscriptions {
                _ = await state.store.subscribe(subscription, id: nil, subscriber: subscriber, mailbox: mailbox)
                guard let batch = await mailbox.next() else { break }
                Self.add(batch, to: &assembler)
            }
            if assembler.isComplete, !assembler.isReady, timeout > 0 {
                held = true
                assembler = try await hold(assembler, mailbox: mailbox, request: request)
            }
        } catch {
            await state.store.unsubscribeAll(subscriber)
            throw error
        }
        await state.store.unsubscribeAll(subscriber)
        guard assembler.isComplete else {
            // Only when the server began shutting down (or the mailbox overflowed) while
            // subscribing: say so rather than answer without some positions.
            throw APIError(.serviceUnavailable, "unavailable", "the server could not complete this poll; retry with the same positions",
                           headers: [.retryAfter: "1"])
        }
        let answer = assembler.response
        if !answer.messages.isEmpty { state.metrics.delivered(answer.messages.count, over: .poll) }
        var response = JSONResponse.make(answer.json)
        // Watching a held request for the client leaving consumes the connection's input,
        // so the connection ends with this answer: say it.
        if held { response.headers[.connection] = "close" }
        return response
    }

    private func hold(_ start: PollAssembler, mailbox: Mailbox<Delivery>, request: Request) async throws -> PollAssembler {
        let deadline = ContinuousClock.now + .seconds(timeout)
        return try await request.body.consumeWithInboundCloseHandler { _ in
            await withGracefulShutdownHandler {
                var assembler = start
                while !assembler.isReady {
                    guard case .items(let batch) = await mailbox.next(until: deadline) else { break }
                    Self.add(batch, to: &assembler)
                }
                return assembler
            } onGracefulShutdown: {
                mailbox.finish()
            }
        } onInboundClosed: {
            mailbox.finish()
        }
    }

    private static func add(_ batch: [Delivery], to assembler: inout PollAssembler) {
        for delivery in batch {
            switch delivery {
            case .subscribed(_, let channel, let latest, let recovered):
                assembler.subscribed(channel, latest: latest, recovered: recovered)
            case .message(let m):
                assembler.received(m)
            }
        }
    }
}
