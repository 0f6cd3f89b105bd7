import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A request as the server received it.
struct IncomingRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }
}

/// Where the answer to one request goes.
protocol ResponseWriter: Sendable {
    func head(status: Int, headers: [(String, String)]) async throws
    func body(_ bytes: [UInt8]) async throws
}

/// The model gateway: the one way an episode's agent reaches a model.
///
/// Each episode gets a token (``register(episode:agent:upstream:)``) that the agent presents as its
/// API key; the gateway checks it, forwards the request to the episode's upstream with the real key
/// from the runner's environment, passes streamed events through as they arrive, records the
/// exchange, counts its tokens and cost, and enforces budgets. In replay it answers from a
/// recording instead. Serve it with ``GatewayServer``.
public final class Gateway: Sendable {
    /// The configuration it was made with.
    public let configuration: GatewayConfiguration
    /// Isolation attempts, replay misses, refusals, upstream failures and retries, as they happen.
    public let events: AsyncStream<GatewayEvent>
    private let continuation: AsyncStream<GatewayEvent>.Continuation
    private let state: GatewayState
    private let ledger: Ledger
    private let clients: [String: HTTPClient]
    private let limiters: [String: Limiter]
    private let upstreams: [String: Upstream]
    /// Events of each episode not yet taken (``takeEvents(episode:)``), at most
    /// ``keptEventsPerEpisode`` each; the rest are counted.
    private let pending = Mutex<[String: (events: [GatewayEvent], dropped: Int)]>([:])

    /// How many events of one episode are kept between two ``takeEvents(episode:)`` calls.
    public static let keptEventsPerEpisode = 1000

    /// Makes a gateway.
    /// - Parameter configuration: upstreams, mode, stores, prices, budget, environment.
    /// - Throws: ``GatewayError`` `.invalidConfiguration` for duplicate or invalid upstreams, a
    ///   missing CA bundle, or a mode without the store it needs.
    public init(configuration: GatewayConfiguration) throws(GatewayError) {
        var upstreams: [String: Upstream] = [:]
        var clients: [String: HTTPClient] = [:]
        var limiters: [String: Limiter] = [:]
        for upstream in configuration.upstreams {
            let place = "upstream '\(upstream.name)'"
            guard upstreams[upstream.name] == nil else { throw GatewayError(.invalidConfiguration, "\(place) is declared twice; give each upstream its own name") }
            guard let url = URL(string: upstream.baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw GatewayError(.invalidConfiguration, "\(place): base_url '\(upstream.baseURL)' is not an http(s) URL; use e.g. https://api.openai.com/v1")
            }
            guard upstream.maxConcurrent >= 1, upstream.retry.maxAttempts >= 1 else {
                throw GatewayError(.invalidConfiguration, "\(place): max_concurrent and retry attempts must be at least 1")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            if let bundle = upstream.caBundlePath {
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw GatewayError(.invalidConfiguration, "\(place): the CA bundle \(bundle) cannot be read; point ca_bundle at a PEM file")
                }
                tls.trustRoots = .file(bundle)
            }
            var clientConfiguration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: TimeAmount(upstream.timeouts.connect), read: TimeAmount(upstream.timeouts.firstByte)))
            clientConfiguration.httpVersion = .http1Only
            clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: upstream.maxConcurrent)
            upstreams[upstream.name] = upstream
            clients[upstream.name] = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
            limiters[upstream.name] = Limiter(permits: upstream.maxConcurrent)
        }
        switch configuration.mode {
        case .replay, .recordMissing:
            guard configuration.replayStore != nil else {
                for client in clients.values { try? client.syncShutdown() }
                throw GatewayError(.invalidConfiguration, "models mode \(configuration.mode.rawValue) needs a recording to read (replayStore)")
            }
        case .live, .record: break
        }
        self.configuration = configuration
        self.upstreams = upstreams
        self.clients = clients
        self.limiters = limiters
        self.ledger = Ledger(budget: configuration.budget)
        self.state = GatewayState(seeds: upstreams.mapValues { $0.retry.seed })
        (events, continuation) = AsyncStream.makeStream(of: GatewayEvent.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Gives an episode its token.
    /// - Parameters:
    ///   - episode: the episode's id.
    ///   - agent: its agent's id (for totals per agent).
    ///   - upstream: the name of the upstream its requests go to.
    /// - Returns: the token the agent presents as its API key; it holds no upstream secret.
    /// - Throws: ``GatewayError`` `.invalidConfiguration` for an unknown upstream.
    public func register(episode: String, agent: String, upstream: String) async throws(GatewayError) -> String {
        guard upstreams[upstream] != nil else {
            throw GatewayError(.invalidConfiguration, "episode '\(episode)': unknown upstream '\(upstream)'; declare it or use one of: \(upstreams.keys.sorted().joined(separator: ", "))")
        }
        var generator = SystemRandomNumberGenerator()
        let token = "dbx-" + (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        await state.register(token: token, route: Route(episode: episode, agent: agent, upstream: upstream))
        return token
    }

    /// Sets the step an episode's next exchanges belong to.
    public func beginStep(episode: String, step: Int) async { await state.setStep(episode: episode, step: step) }

    /// Withdraws an episode's token; later requests with it are refused.
    public func unregister(episode: String) async { await state.unregister(episode: episode) }

    /// Tokens, cost and counts over a scope.
    public func totals(_ scope: AccountScope) async -> AccountTotals { await ledger.totals(scope) }

    /// Counts what an earlier invocation already spent for `episode` (read from its recording) in
    /// the episode's, the agent's and the run's totals, so budgets hold across a resume.
    public func carry(episode: String, agent: String, spent: AccountTotals) async {
        await ledger.carry(episode: episode, agent: agent, spent: spent)
    }

    deinit {
        // A gateway dropped without `shutdown()` still closes its clients (each task keeps its
        // client alive until it is shut down).
        for client in clients.values { Task { try? await client.shutdown() } }
        continuation.finish()
    }

    /// Closes the upstream connections and ends ``events``.
    public func shutdown() async {
        for client in clients.values { try? await client.shutdown() }
        continuation.finish()
    }

    /// The events reported for an episode since the last call, oldest first, and how many more
    /// were dropped beyond ``keptEventsPerEpisode``. Every event is reported before the answer it
    /// belongs to is written, so once an episode's servers are shut down its events are all here.
    public func takeEvents(episode: String) -> (events: [GatewayEvent], dropped: Int) {
        pending.withLock { $0.removeValue(forKey: episode) } ?? ([], 0)
    }

    private func report(_ kind: GatewayEvent.Kind, _ route: Route?, step: Int?, _ attempted: String, _ detail: String, delay: Duration? = nil) {
        let event = GatewayEvent(kind: kind, episode: route?.episode, step: step, attempted: attempted, detail: detail, delay: delay)
        continuation.yield(event)
        if let episode = event.episode {
            pending.withLock { all in
                var entry = all[episode] ?? ([], 0)
                if entry.events.count < Self.keptEventsPerEpisode { entry.events.append(event) } else { entry.dropped += 1 }
                all[episode] = entry
            }
        }
    }

    static func errorBody(type: String, message: String) -> [UInt8] {
        let object: [String: Any] = ["type": "error", "error": ["type": type, "message": message, "source": "driftbox-gateway"]]
        return Array(NormalisedBody.canonical(object).utf8)
    }

    private func refuse(_ writer: some ResponseWriter, status: Int, type: String, message: String) async {
        let body = Gateway.errorBody(type: type, message: message)
        try? await writer.head(status: status, headers: [("content-type", "application/json"), ("content-length", "\(body.count)")])
        try? await writer.body(body)
    }

    // MARK: - Serving one request

    /// Answers one request. Never throws: every failure is an answer and, where it matters, an event.
    func handle(_ request: IncomingRequest, listenerEpisode: String?, writer: some ResponseWriter) async {
        let attempted = "\(request.method) \(request.uri.prefix(300))"
        // On an episode's own listener, every refusal is that episode's, token or not.
        let listener = listenerEpisode.map { Route(episode: $0, agent: "", upstream: "") }
        let listenerStep: Int? = if let listenerEpisode { await state.step(episode: listenerEpisode) } else { nil }
        if request.method == "CONNECT" {
            report(.isolation, listener, step: listenerStep, attempted, "a CONNECT tunnel was asked for; the gateway opens no tunnels")
            return await refuse(writer, status: 405, type: "isolation", message: "CONNECT is refused: the sandbox reaches models only through the gateway's model routes")
        }
        guard request.uri.hasPrefix("/") else {
            let host = URL(string: request.uri)?.host ?? request.uri
            report(.isolation, listener, step: listenerStep, attempted, "a proxy request for another host (\(host.prefix(200)))")
            return await refuse(writer, status: 403, type: "isolation", message: "requests for other hosts are refused: the gateway is not a proxy")
        }
        let path = String(request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard let routeProtocol = ModelProtocol(path: path) else {
            report(.isolation, listener, step: listenerStep, attempted, "a request for a path the gateway does not serve")
            return await refuse(writer, status: 404, type: "isolation", message: "no such route; the gateway serves POST \(ModelProtocol.allCases.map(\.path).joined(separator: ", "))")
        }
        guard request.method == "POST" else {
            report(.isolation, listener, step: listenerStep, attempted, "a \(request.method) on a model route")
            return await refuse(writer, status: 405, type: "isolation", message: "\(path) takes POST only")
        }
        var token = request.header("x-api-key")
        if let authorization = request.header("authorization"), authorization.lowercased().hasPrefix("bearer ") {
            token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        guard let token, let route = await state.route(token: token) else {
            report(.isolation, listener, step: listenerStep, attempted, token == nil ? "no token was presented" : "an unknown token was presented")
            return await refuse(writer, status: 401, type: "authentication_error", message: "missing or unknown gateway token; use the API key the runner gave this episode")
        }
        let step = await state.step(episode: route.episode)
        if let listenerEpisode, listenerEpisode != route.episode {
            report(.isolation, listener, step: listenerStep, attempted,
                   "the token of episode '\(route.episode)' was presented on episode '\(listenerEpisode)''s listener")
            return await refuse(writer, status: 403, type: "permission_error", message: "this token belongs to another episode")
        }
        guard let upstream = upstreams[route.upstream], let client = clients[route.upstream], let limiter = limiters[route.upstream] else {
            return await refuse(writer, status: 500, type: "gateway_error", message: "the episode's upstream is gone")
        }
        guard upstream.modelProtocol == routeProtocol else {
            report(.upstreamError, route, step: step, attempted, "upstream '\(upstream.name)' speaks \(upstream.modelProtocol.rawValue), not \(routeProtocol.rawValue)")
            return await refuse(writer, status: 400, type: "invalid_request_error", message: "this episode's upstream speaks \(upstream.modelProtocol.rawValue); send requests to \(upstream.modelProtocol.path)")
        }

        let normalised = NormalisedBody(request.body)
        let started = ContinuousClock.now
        let startedAt = Date()
        var exchange = Exchange(
            episode: route.episode, step: step, agent: route.agent, upstream: upstream.name, modelProtocol: routeProtocol.rawValue,
            request: .init(method: request.method, path: path, body: normalised.text, stream: normalised.streamed),
            response: .init(status: 0, contentType: "application/json"),
            timings: .init(startedAt: Gateway.timestamp(startedAt), firstByteMs: nil, totalMs: 0),
            attempts: 0, source: "gateway")

        if let reason = await ledger.overBudget(episode: route.episode) {
            report(.budget, route, step: step, attempted, reason)
            let body = Gateway.errorBody(type: "budget_exceeded", message: "refused: \(reason)")
            exchange.response = .init(status: 402, contentType: "application/json", body: String(decoding: body, as: UTF8.self))
            exchange.error = "refused: \(reason)"
            exchange.timings.totalMs = Gateway.milliseconds(ContinuousClock.now - started)
            await ledger.refuse(episode: route.episode, step: step, agent: route.agent)
            record(exchange, replayed: false)
            // Counted and recorded before the client can see the answer.
            return await refuse(writer, status: 402, type: "budget_exceeded", message: "refused: \(reason)")
        }

        let mode = configuration.mode
        if mode == .replay || mode == .recordMissing, let store = configuration.replayStore {
            switch await state.replay(store: store, episode: route.episode, key: exchange.matchKey) {
            case .hit(let recorded):
                var answered = recorded
                answered.step = step
                answered.source = "replay"
                answered.attempts = 0
                answered.timings = .init(startedAt: Gateway.timestamp(startedAt), firstByteMs: 0, totalMs: Gateway.milliseconds(ContinuousClock.now - started))
                await ledger.add(episode: route.episode, step: step, agent: route.agent, usage: recorded.usage, cost: recorded.costUSD)
                record(answered, replayed: true)
                let bytes = recorded.response.bytes
                var headers = [("content-type", recorded.response.contentType)]
                if recorded.response.events == nil { headers.append(("content-length", "\(bytes.count)")) }
                try? await writer.head(status: recorded.response.status, headers: headers)
                if let events = recorded.response.events {
                    for event in events { try? await writer.body(Array(event.utf8)) }
                } else {
                    try? await writer.body(bytes)
                }
                return
            case .failed(let why):
                report(.replayMiss, route, step: step, attempted, why)
                return await refuse(writer, status: 500, type: "replay_miss", message: why)
            case .miss(let why):
                if mode == .replay {
                    let message = "no recorded answer in episode '\(route.episode)' step \(step) for \(request.method) \(path): \(why)"
                    report(.replayMiss, route, step: step, attempted, message)
                    return await refuse(writer, status: 409, type: "replay_miss", message: message)
                }
            }
        }

        // Forward upstream.
        var headers: [(String, String)] = [("content-type", request.header("content-type") ?? "application/json"), ("accept-encoding", "identity")]
        for name in ["accept", "anthropic-version", "anthropic-beta", "openai-beta"] {
            if let value = request.header(name) { headers.append((name, value)) }
        }
        if let variable = upstream.keyVariable {
            guard let key = configuration.environment[variable], !key.isEmpty else {
                let message = "the runner's environment has no \(variable), the key of upstream '\(upstream.name)'; export it before the run"
                report(.upstreamError, route, step: step, attempted, message)
                await refuse(writer, status: 500, type: "gateway_error", message: message)
                return
            }
            switch upstream.modelProtocol {
            case .anthropicMessages: headers.append(("x-api-key", key))
            case .openAIChat, .openAIResponses: headers.append(("authorization", "Bearer \(key)"))
            }
        }
        await limiter.acquire()
        let relay = Relay()
        let outcome = await forward(
            client: client, upstream: upstream, url: upstream.url(for: path), headers: headers, body: request.body,
            relay: relay, writer: writer, started: started, route: route, step: step, attempted: attempted)
        await limiter.release()

        exchange.source = "upstream"
        exchange.attempts = relay.attempts
        exchange.timings.firstByteMs = relay.firstByte.map(Gateway.milliseconds)
        let snapshot = relay.snapshot()
        exchange.response = .init(status: snapshot.status, contentType: snapshot.contentType)
        if snapshot.streamed {
            exchange.response.events = snapshot.events
        } else if let text = String(validating: snapshot.body, as: UTF8.self) {
            exchange.response.body = text
        } else {
            exchange.response.bodyBase64 = Data(snapshot.body).base64EncodedString()
        }
        if let error = outcome { exchange.error = error }
        let (usage, model) = snapshot.streamed
            ? UsageReader.read(events: snapshot.events, protocol: routeProtocol)
            : (snapshot.parsed.map { UsageReader.read(body: $0, protocol: routeProtocol) } ?? (nil, nil))
        exchange.usage = usage
        exchange.upstreamModel = model
        if let usage, let prices = configuration.prices {
            let day = String(exchange.timings.startedAt.prefix(10))
            exchange.costUSD = prices.cost(of: usage, model: model ?? normalised.model ?? "", day: day)
                ?? normalised.model.flatMap { prices.cost(of: usage, model: $0, day: day) }
        }
        exchange.timings.totalMs = Gateway.milliseconds(ContinuousClock.now - started)
        await ledger.add(episode: route.episode, step: step, agent: route.agent, usage: usage, cost: exchange.costUSD)
        record(exchange, replayed: false)
        // A whole answer is sent only now, so that it is counted and recorded before the client
        // has it; a stream ends when this function returns.
        if !snapshot.streamed {
            try? await writer.head(status: snapshot.status, headers: [("content-type", snapshot.contentType), ("content-length", "\(snapshot.body.count)")])
            try? await writer.body(snapshot.body)
        }
    }

    private func record(_ exchange: Exchange, replayed: Bool) {
        guard configuration.mode != .live, let store = configuration.recordStore else { return }
        if replayed, let source = configuration.replayStore, source === store { return }
        do { try store.append(exchange) } catch {
            report(.upstreamError, Route(episode: exchange.episode, agent: exchange.agent, upstream: exchange.upstream), step: exchange.step,
                   "\(exchange.request.method) \(exchange.request.path)", "the exchange could not be recorded: \(error)")
        }
    }

    // MARK: - Upstream

    /// Forwards with retries and timeouts, relaying the answer to `writer`. Returns the error text,
    /// nil when the exchange completed.
    private func forward(client: HTTPClient, upstream: Upstream, url: String, headers: [(String, String)], body: [UInt8],
                         relay: Relay, writer: some ResponseWriter, started: ContinuousClock.Instant,
                         route: Route, step: Int, attempted: String) async -> String? {
        let deadline = started + upstream.timeouts.total
        while true {
            relay.attempts += 1
            let remaining = deadline - ContinuousClock.now
            let result: AttemptResult = await withTaskGroup(of: AttemptResult.self) { group in
                group.addTask {
                    await self.attempt(client: client, upstream: upstream, url: url, headers: headers, body: body, relay: relay,
                                       writer: writer, remaining: remaining, finalAttempt: relay.attempts >= upstream.retry.maxAttempts)
                }
                group.addTask {
                    try? await Task.sleep(for: remaining)
                    return .totalTimeout
                }
                let first = await group.next() ?? .totalTimeout
                group.cancelAll()
                return first
            }
            switch result {
            case .completed:
                return nil
            case .failed(let message, let status, let type):
                report(.upstreamError, route, step: step, attempted, message)
                await finish(relay: relay, writer: writer, status: status, type: type, message: message)
                return message
            case .totalTimeout:
                let message = "upstream '\(upstream.name)' did not finish within the total timeout of \(upstream.timeouts.total)"
                report(.upstreamError, route, step: step, attempted, message)
                await finish(relay: relay, writer: writer, status: 504, type: "upstream_timeout", message: message)
                return message
            case .retry(let why, let retryAfter):
                var delay: Duration
                if let retryAfter {
                    delay = retryAfter
                } else {
                    let exponent = min(relay.attempts - 1, 30)
                    let backoff = min(upstream.retry.maxDelay, upstream.retry.baseDelay * (1 << exponent))
                    delay = backoff * (0.5 + 0.5 * (await state.jitter(upstream: upstream.name)))
                }
                if ContinuousClock.now + delay >= deadline {
                    let message = "upstream '\(upstream.name)': \(why); no time is left within the total timeout of \(upstream.timeouts.total) to retry"
                    report(.upstreamError, route, step: step, attempted, message)
                    await finish(relay: relay, writer: writer, status: 504, type: "upstream_timeout", message: message)
                    return message
                }
                report(.retry, route, step: step, attempted, "\(why); attempt \(relay.attempts + 1) of \(upstream.retry.maxAttempts) after \(delay)\(retryAfter != nil ? " (Retry-After)" : "")", delay: delay)
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Ends an answer that failed: a JSON error when nothing was sent yet, else an error event on the stream.
    private func finish(relay: Relay, writer: some ResponseWriter, status: Int, type: String, message: String) async {
        let body = Gateway.errorBody(type: type, message: message)
        if relay.headSent {
            let event = Array("event: error\ndata: ".utf8) + body + Array("\n\n".utf8)
            relay.appendStream(event)
            try? await writer.body(event)
        } else {
            relay.setPlain(status: status, contentType: "application/json", body: body)
        }
    }

    enum AttemptResult: Sendable {
        case completed
        case failed(String, status: Int, type: String)
        case retry(String, retryAfter: Duration?)
        case totalTimeout
    }

    private func attempt(client: HTTPClient, upstream: Upstream, url: String, headers: [(String, String)], body: [UInt8],
                         relay: Relay, writer: some ResponseWriter, remaining: Duration, finalAttempt: Bool) async -> AttemptResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let name = upstream.name
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + TimeAmount(remaining))
        } catch {
            let (retryable, text) = Gateway.describe(error, upstream: upstream, phase: "before answering")
            if retryable, !finalAttempt { return .retry(text, retryAfter: nil) }
            return .failed(text, status: Gateway.isTimeout(error) ? 504 : 502, type: Gateway.isTimeout(error) ? "upstream_timeout" : "upstream_error")
        }
        relay.markFirstByte()
        let status = Int(response.status.code)
        let retryAfter = response.headers.first(name: "retry-after").flatMap(Gateway.parseRetryAfter)
        if status == 429 || status >= 500, !finalAttempt, (retryAfter ?? .zero) <= upstream.retry.maxRetryAfter {
            var drained = 0
            do {
                for try await chunk in response.body {
                    drained += chunk.readableBytes
                    if drained > 1 << 20 { break }
                }
            } catch {}
            return .retry("upstream '\(name)' answered \(status)", retryAfter: retryAfter)
        }
        let contentType = response.headers.first(name: "content-type") ?? "application/json"
        if contentType.lowercased().hasPrefix("text/event-stream") {
            relay.startStream(status: status, contentType: contentType)
            do {
                try await writer.head(status: status, headers: [("content-type", contentType), ("cache-control", "no-cache")])
                relay.headSent = true
            } catch {
                return .failed("the client went away before the answer", status: 499, type: "client_closed")
            }
            var received = 0
            do {
                for try await chunk in response.body {
                    let bytes = Array(chunk.readableBytesView)
                    received += bytes.count
                    guard received <= configuration.maxResponseBytes else {
                        return .failed("upstream '\(name)' streamed more than \(configuration.maxResponseBytes) bytes; the answer was cut", status: 502, type: "upstream_error")
                    }
                    relay.appendStream(bytes)
                    do { try await writer.body(bytes) } catch {
                        return .failed("the client went away mid-stream", status: 499, type: "client_closed")
                    }
                }
            } catch {
                let (_, text) = Gateway.describe(error, upstream: upstream, phase: "mid-stream after \(relay.eventCount) events")
                return .failed(text, status: 502, type: Gateway.isTimeout(error) ? "upstream_timeout" : "upstream_error")
            }
            relay.endStream()
            return .completed
        }
        var bytes: [UInt8] = []
        do {
            for try await chunk in response.body {
                bytes += chunk.readableBytesView
                guard bytes.count <= configuration.maxResponseBytes else {
                    return .failed("upstream '\(name)' answered more than \(configuration.maxResponseBytes) bytes; the answer was refused", status: 502, type: "upstream_error")
                }
            }
        } catch {
            // Cut off after its head: nothing has gone to the client yet, so a connection failure
            // is retried like one before the answer (a stall, a timeout, is not).
            let (retryable, text) = Gateway.describe(error, upstream: upstream, phase: "while sending its answer")
            if retryable, !finalAttempt { return .retry(text, retryAfter: nil) }
            return .failed(text, status: Gateway.isTimeout(error) ? 504 : 502, type: Gateway.isTimeout(error) ? "upstream_timeout" : "upstream_error")
        }
        let parsed = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        if (200..<300).contains(status), parsed == nil {
            let excerpt = String(decoding: bytes.prefix(200), as: UTF8.self)
            return .failed("upstream '\(name)' answered \(status) with malformed JSON (\(bytes.count) bytes, starting '\(excerpt)')", status: 502, type: "upstream_malformed")
        }
        relay.setPlain(status: status, contentType: contentType, body: bytes, parsed: parsed)
        return .completed
    }

    static func isTimeout(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return error == .readTimeout || error == .deadlineExceeded || error == .connectTimeout || error == .tlsHandshakeTimeout
    }

    /// Whether an error before the answer is worth a retry, and the error in words.
    static func describe(_ error: any Error, upstream: Upstream, phase: String) -> (Bool, String) {
        let name = "upstream '\(upstream.name)'"
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout: return (false, "\(name) sent nothing for \(upstream.timeouts.firstByte) \(phase) (first-byte timeout)")
            case .deadlineExceeded: return (false, "\(name) did not finish within the total timeout of \(upstream.timeouts.total)")
            case .connectTimeout, .tlsHandshakeTimeout: return (true, "\(name) could not be connected to within \(upstream.timeouts.connect)")
            case .remoteConnectionClosed: return (true, "\(name) closed the connection \(phase)")
            case .cancelled: return (false, "the exchange with \(name) was cancelled \(phase)")
            default: return (true, "\(name) failed \(phase): \(error)")
            }
        }
        if error is CancellationError { return (false, "the exchange with \(name) was cancelled \(phase)") }
        // A peer that drops the connection without TLS's close_notify: a connection failure, not a certificate problem.
        if let error = error as? NIOSSLError, error == .uncleanShutdown { return (true, "\(name) closed the connection without ending TLS \(phase)") }
        if error is NIOSSLError || error is BoringSSLError { return (false, "\(name): TLS failed \(phase): \(error); check its certificate and the CA bundle") }
        return (true, "\(name) failed \(phase): \(error)")
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func parseRetryAfter(_ value: String) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return .milliseconds(Int64(min(seconds, 86_400) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .milliseconds(Int64(max(0, min(date.timeIntervalSinceNow, 86_400)) * 1000))
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        return (self * factor).rounded() / factor
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}

/// An episode's route: who it is and where its requests go.
struct Route: Sendable {
    var episode: String
    var agent: String
    var upstream: String
}
