import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A judge model upstream on a loopback port, plain HTTP/1.1, speaking OpenAI Chat Completions
/// (and Anthropic Messages on `/v1/messages`):
/// each request's answer text comes from a script given the user prompt and how often this exact
/// prompt was asked before. It counts requests; with `holdFrom`, requests from that number on are
/// never answered (the connection stays open) and `held` is signalled.
final class ScriptedJudge: @unchecked Sendable {
    typealias Script = @Sendable (_ prompt: String, _ repeatIndex: Int) -> String

    private let lock = NSLock()
    private var seen: [String: Int] = [:]
    private var count = 0
    private let script: Script
    private let holdFrom: Int?
    private var channel: Channel?
    private var lastSystem: String?

    /// The system prompt of the latest request (Chat Completions' system message, Messages' `system`).
    var systemPrompt: String? { lock.withLock { lastSystem } }
    /// Signalled once, when the first held request arrives.
    let held = DispatchSemaphore(value: 0)

    init(holdFrom: Int? = nil, script: @escaping Script) {
        self.script = script
        self.holdFrom = holdFrom
    }

    /// Requests received.
    var requests: Int { lock.withLock { count } }

    /// The port it listens on.
    var port: Int { channel?.localAddress?.port ?? 0 }

    /// The base URL to give `--upstream`.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    func start() throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(Handler(owner: self)) }
            }
        channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() {
        try? channel?.close().wait()
    }

    /// The answer to one request body, or nil to hold it.
    fileprivate func answer(_ body: [UInt8], path: String) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        let messages = object["messages"] as? [[String: Any]] ?? []
        lock.withLock { lastSystem = (object["system"] as? String) ?? (messages.first { $0["role"] as? String == "system" }?["content"] as? String) }
        let prompt = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
        let (number, index): (Int, Int) = lock.withLock {
            count += 1
            let index = seen[prompt, default: 0]
            seen[prompt] = index + 1
            return (count, index)
        }
        if let holdFrom, number >= holdFrom {
            if number == holdFrom { held.signal() }
            return nil
        }
        let text = script(prompt, index)
        if path == "/v1/messages" {
            let reply: [String: Any] = [
                "id": "msg_\(number)", "type": "message", "role": "assistant", "model": object["model"] as? String ?? "judge",
                "content": [["type": "text", "text": text]], "stop_reason": "end_turn",
                "usage": ["input_tokens": 1000, "output_tokens": 40],
            ]
            return String(decoding: try! JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys]), as: UTF8.self)
        }
        let reply: [String: Any] = [
            "id": "chatcmpl-\(number)", "object": "chat.completion", "model": object["model"] as? String ?? "judge",
            "choices": [["index": 0, "finish_reason": "stop", "message": ["role": "assistant", "content": text]]],
            "usage": ["prompt_tokens": 1000, "completion_tokens": 40, "total_tokens": 1040],
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys]), as: UTF8.self)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let owner: ScriptedJudge
        var body: [UInt8] = []
        var path = ""

        init(owner: ScriptedJudge) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): body = []; path = head.uri
            case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let text = owner.answer(body, path: path) else { return }
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json")
                headers.add(name: "content-length", value: String(text.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// The answer format the judge asks for.
func answer(_ label: String, _ reason: String = "Scripted.") -> String { "CLASSIFICATION: \(label)\nREASONING: \(reason)" }

/// The step number a prompt names (`… given at step N`).
func stepOf(_ prompt: String) -> Int {
    guard let range = prompt.range(of: "given at step ") else { return 0 }
    return Int(prompt[range.upperBound...].prefix { $0.isNumber }) ?? 0
}
