import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOHTTP1

/// The judge model as configured on the command line.
public struct JudgeModel: Sendable, Hashable, Codable {
    /// The model id sent upstream.
    public var model: String
    /// The upstream's base URL.
    public var upstream: String
    /// The protocol it speaks (`openai-chat` or `anthropic-messages`).
    public var modelProtocol: String
    /// The environment variable holding its key; nil sends none.
    public var keyVariable: String?
    /// Sampling temperature (the paper's judge: 0).
    public var temperature: Double
    /// The most tokens of one answer.
    public var maxTokens: Int

    /// Creates a judge model configuration.
    public init(model: String, upstream: String, modelProtocol: String, keyVariable: String?, temperature: Double = 0, maxTokens: Int = 1024) {
        self.model = model
        self.upstream = upstream
        self.modelProtocol = modelProtocol
        self.keyVariable = keyVariable
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    enum CodingKeys: String, CodingKey {
        case model, upstream, modelProtocol = "protocol", keyVariable = "keyEnv", temperature, maxTokens
    }
}

/// One answer of the judge model.
public struct ModelReply: Sendable {
    /// The answer's text (empty when the exchange failed).
    public var text: String
    /// The HTTP status the gateway answered with.
    public var status: Int
    /// The error the gateway or upstream reported, for a status other than 2xx.
    public var error: String?
    /// Whether the answer came from the recording (no model call).
    public var fromRecording: Bool
}

/// Exchanges that went to the model, and their cost, counted by the judge itself: the gateway's
/// totals also count answers served from the recording.
public struct UpstreamTally: Sendable, Equatable {
    /// Exchanges sent to the model.
    public var exchanges = 0
    /// Their cost in US dollars (priced exchanges only).
    public var costUSD = 0.0
    /// Exchanges with tokens but no price.
    public var unpriced = 0
    /// Answers served from the recording.
    public var replayed = 0
}

final class TallyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var tally = UpstreamTally()
    func update(_ change: (inout UpstreamTally) -> Void) { lock.lock(); change(&tally); lock.unlock() }
    var value: UpstreamTally { lock.lock(); defer { lock.unlock() }; return tally }
}

/// Calls the judge model through an in-process gateway on a loopback port: every exchange is
/// recorded in `recording` (a gateway exchange store) and, in `replay` and `record-missing`, served
/// from it when it holds the request.
public final class JudgeClient: Sendable {
    /// The configuration.
    public let model: JudgeModel
    /// The recording folder.
    public let recording: ExchangeStore
    let gateway: Gateway
    let server: GatewayServer
    let http: HTTPClient
    let modelProtocol: ModelProtocol
    let tally = TallyBox()

    /// The longest answer read from the gateway.
    static let maximumAnswer = 4 << 20

    /// Starts the gateway.
    /// - Parameters:
    ///   - model: model, upstream, protocol, key variable, settings.
    ///   - recording: the exchange store's folder (created when missing).
    ///   - mode: `record`, `replay` or `record-missing` (`live` records nothing).
    ///   - prices: a price table for the cost, or nil.
    ///   - maxConcurrent: exchanges with the upstream at once.
    /// - Throws: `JudgeError` for an unknown protocol, `GatewayError` when the gateway cannot start.
    public init(model: JudgeModel, recording: URL, mode: ModelsMode, prices: PriceTable?, maxConcurrent: Int = 4) async throws {
        guard let chosen = ModelProtocol(rawValue: model.modelProtocol), chosen != .openAIResponses else {
            throw JudgeError("the judge protocol '\(model.modelProtocol)' is not one the judge speaks", hint: "use --protocol openai-chat or anthropic-messages")
        }
        self.model = model
        self.modelProtocol = chosen
        try FileManager.default.createDirectory(at: recording, withIntermediateDirectories: true)
        let store = try ExchangeStore(root: recording.path)
        self.recording = store
        let upstream = Upstream(name: "judge", baseURL: model.upstream, modelProtocol: chosen, keyVariable: model.keyVariable, maxConcurrent: max(1, maxConcurrent))
        let configuration = GatewayConfiguration(
            upstreams: [upstream], mode: mode, recordStore: mode == .live || mode == .replay ? nil : store,
            replayStore: mode == .replay || mode == .recordMissing ? store : nil, prices: prices)
        gateway = try Gateway(configuration: configuration)
        do {
            server = try await GatewayServer.serve(gateway, host: "127.0.0.1", port: 0)
        } catch {
            await gateway.shutdown()
            throw error
        }
        var settings = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)))
        settings.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
    }

    /// Stops the server, the gateway and the client.
    public func shutdown() async {
        try? await http.shutdown()
        await server.shutdown()
        await gateway.shutdown()
    }

    /// Exchanges sent to the model so far, their cost, and the answers served from the recording.
    public var upstream: UpstreamTally { tally.value }

    /// The request body of one prompt, as the protocol wants it.
    public func body(system: String, user: String) -> [String: Any] {
        switch modelProtocol {
        case .anthropicMessages:
            return ["model": model.model, "max_tokens": model.maxTokens, "temperature": model.temperature, "system": system,
                    "messages": [["role": "user", "content": user]]]
        default:
            return ["model": model.model, "max_tokens": model.maxTokens, "temperature": model.temperature,
                    "messages": [["role": "system", "content": system], ["role": "user", "content": user]]]
        }
    }

    /// Asks the model once, as gateway episode `episode` at `step` (so its exchange is recorded
    /// under that name and matched against that name's recording).
    public func ask(system: String, user: String, episode: String, step: Int) async throws -> ModelReply {
        let token = try await gateway.register(episode: episode, agent: "judge", upstream: "judge")
        defer { Task { [gateway] in await gateway.unregister(episode: episode) } }
        await gateway.beginStep(episode: episode, step: step)
        let payload = try JSONSerialization.data(withJSONObject: body(system: system, user: user), options: [.sortedKeys, .withoutEscapingSlashes])
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(modelProtocol.path)")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if modelProtocol == .anthropicMessages {
            request.headers.add(name: "x-api-key", value: token)
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
        } else {
            request.headers.add(name: "authorization", value: "Bearer \(token)")
        }
        request.body = .bytes(ByteBuffer(bytes: payload))
        let recordedBefore = try recording.exchanges(episode: episode, step: step)
        let response = try await http.execute(request, timeout: .seconds(900))
        let bytes = try await response.body.collect(upTo: Self.maximumAnswer)
        let data = Data(bytes.readableBytesView)
        try recording.sync(episode: episode, step: step)
        let status = Int(response.status.code)
        // A new exchange in the step's list went to the model; none means the recording answered.
        let recordedAfter = try recording.exchanges(episode: episode, step: step)
        var fromRecording = true
        if recordedAfter.count > recordedBefore.count, let hash = recordedAfter.last, let exchange = try? recording.exchange(hash), exchange.source == "upstream" {
            fromRecording = false
            tally.update {
                $0.exchanges += 1
                if let cost = exchange.costUSD { $0.costUSD += cost } else if let usage = exchange.usage, usage.input + usage.output > 0 { $0.unpriced += 1 }
            }
        } else if (200..<300).contains(status) {
            tally.update { $0.replayed += 1 }
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard (200..<300).contains(status) else {
            let error = object?["error"] as? [String: Any]
            let message: String = error?["message"] as? String ?? String(decoding: data.prefix(2000), as: UTF8.self)
            return ModelReply(text: "", status: status, error: message, fromRecording: fromRecording)
        }
        return ModelReply(text: Self.text(of: object ?? [:], modelProtocol), status: status, error: nil, fromRecording: fromRecording)
    }

    /// The answer's text: Chat Completions' first choice, or Messages' text blocks joined.
    static func text(of object: [String: Any], _ modelProtocol: ModelProtocol) -> String {
        switch modelProtocol {
        case .anthropicMessages:
            let blocks = object["content"] as? [[String: Any]] ?? []
            return blocks.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined(separator: "\n")
        default:
            let choices = object["choices"] as? [[String: Any]] ?? []
            let message = choices.first?["message"] as? [String: Any]
            if let text = message?["content"] as? String { return text }
            let parts = message?["content"] as? [[String: Any]] ?? []
            return parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
        }
    }
}
