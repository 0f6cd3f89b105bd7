import AsyncHTTPClient
import Foundation
import NIOCore

/// One model request through the run's gateway, on the loopback listener it serves for agents
/// in the runner, with the episode's token as the key.
struct ModelCall: Sendable {
    /// `http://127.0.0.1:PORT`.
    let endpoint: String
    let token: String
    let wire: WireProtocol

    /// The most bytes of an answer read (whole, or all events of a stream).
    static let answerLimit = 32 << 20

    /// Sends `body`; a non-2xx status or an error event is thrown as a `WireFailure`.
    func send(_ body: Data, stream: Bool, timeout: Duration) async throws -> ModelAnswer {
        var request = HTTPClientRequest(url: endpoint + wire.path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if wire == .anthropic {
            request.headers.add(name: "x-api-key", value: token)
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
        } else {
            request.headers.add(name: "authorization", value: "Bearer \(token)")
        }
        if stream { request.headers.add(name: "accept", value: "text/event-stream") }
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = max(1, Int64(timeout.components.seconds))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(seconds))
        let status = Int(response.status.code)
        let isStream = response.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") ?? false
        guard (200..<300).contains(status), isStream else {
            let bytes = try await response.body.collect(upTo: Self.answerLimit)
            let data = Data(bytes.readableBytesView)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            guard (200..<300).contains(status) else {
                let error = object?["error"] as? [String: Any]
                let message = error?["message"] as? String ?? String(decoding: data.prefix(2000), as: UTF8.self)
                throw WireFailure(status: status, message: message)
            }
            guard let object else { throw WireFailure(status: status, message: "the answer is not a JSON object") }
            return try Wire.answer(wire, object)
        }
        var splitter = EventSplitter(limit: Self.answerLimit)
        var assembler = StreamAssembler(wire: wire)
        var total = 0
        for try await chunk in response.body {
            total += chunk.readableBytes
            guard total <= Self.answerLimit else { throw WireFailure(status: status, message: "the streamed answer is longer than \(Self.answerLimit) bytes") }
            for event in try splitter.feed(chunk.readableBytesView) { try assembler.take(event: event.event, data: event.data) }
        }
        for event in splitter.end() { try assembler.take(event: event.event, data: event.data) }
        return try assembler.finish()
    }
}
