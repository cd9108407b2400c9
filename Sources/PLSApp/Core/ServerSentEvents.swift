import Vapor

/// Pushes to a browser with server-sent events (the screen pop, the hall screen): asks `poll` each second and writes the
/// messages it returns. The stream ends after `rounds` seconds and the browser reconnects (`retry: 1000`), so that a
/// restart or a stopping server never waits on it; reading the database each time, it reaches the browser whichever
/// process made the change.
enum ServerSentEvents {
    /// One message: `event: name`, `data: …`, with an id the browser sends back as `Last-Event-ID` when it reconnects.
    static func message(event: String, data: String, id: String? = nil) -> String {
        (id.map { "id: \($0)\n" } ?? "") + "event: \(event)\ndata: \(data)\n\n"
    }

    static func response<State: Sendable>(rounds: Int = 20, initial: State,
                                          _ poll: @escaping @Sendable (State) async throws -> (State, [String])) -> Response {
        let response = Response(status: .ok, body: .init(asyncStream: { writer in
            var state = initial
            do {
                try await writer.write(.buffer(ByteBuffer(string: "retry: 1000\n\n")))
                for _ in 0..<rounds {
                    let (next, messages) = try await poll(state)
                    state = next
                    for m in messages { try await writer.write(.buffer(ByteBuffer(string: m))) }
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.write(.end)
            } catch {
                try? await writer.write(.error(error))
            }
        }))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "event-stream", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}
