/// The conversation of one step of an agent that talks to its model itself (kind `model`): the
/// step's task as a user turn, then every model turn, tool call and tool result, as the model saw
/// them. Recorded in the step's transcript line; the episode's session is these, step after step.
public struct ModelConversation: Sendable, Hashable, Codable {
    /// The system prompt, on the first step of an episode only (the session keeps it).
    public var system: String?
    /// The step's items, oldest first.
    public var items: [ConversationItem]
    /// Model requests made in the step.
    public var modelTurns: Int
    /// How the step ended: `answered` (a model turn without tool calls), `refused` (the model
    /// declined), `max_turns` (the limit of model turns was reached), `failed` (a model call failed).
    public var ended: String
    /// Tool results the context policy elided (oldest first) from the step's last request; nil: none.
    public var elided: Int?

    /// Creates a conversation record.
    public init(system: String? = nil, items: [ConversationItem], modelTurns: Int, ended: String, elided: Int? = nil) {
        self.system = system
        self.items = items
        self.modelTurns = modelTurns
        self.ended = ended
        self.elided = elided
    }
}

/// One item of a model conversation.
public struct ConversationItem: Sendable, Hashable, Codable {
    /// Who speaks.
    public enum Role: String, Sendable, Hashable, Codable {
        /// The task prompt.
        case user
        /// A model turn.
        case assistant
        /// A tool's result.
        case tool
    }

    /// Who speaks.
    public var role: Role
    /// The text: the prompt, the model's text, or the tool's result as sent to the model.
    public var text: String
    /// The tool calls of a model turn.
    public var toolCalls: [ToolCall]?
    /// A model turn's refusal, when the model declined.
    public var refusal: String?
    /// A tool result's call id and tool name.
    public var callID: String?
    /// The tool's name (tool results).
    public var name: String?
    /// True when the tool result reports an error (unknown tool, bad arguments, failed edit).
    public var isError: Bool?
    /// Bytes of the tool's output cut before it was sent to the model.
    public var cutBytes: Int?
    /// A model turn's tokens (prompt, completion), when the API reported them.
    public var inputTokens: Int?
    /// A model turn's completion tokens.
    public var outputTokens: Int?
    /// A model turn's reasoning as the API returned it, in its order, to be sent back unchanged:
    /// Anthropic `thinking` and `redacted_thinking` blocks, Responses `reasoning` items.
    public var reasoning: [JSONValue]?
    /// The API's id of a model turn's message item (Responses `msg_…`), kept when the turn has
    /// reasoning: the API pairs a reasoning item with the item that follows it by that id.
    public var itemID: String?

    /// Creates an item.
    public init(role: Role, text: String, toolCalls: [ToolCall]? = nil, refusal: String? = nil, callID: String? = nil, name: String? = nil,
                isError: Bool? = nil, cutBytes: Int? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil, reasoning: [JSONValue]? = nil,
                itemID: String? = nil) {
        self.role = role
        self.text = text
        self.toolCalls = toolCalls
        self.refusal = refusal
        self.callID = callID
        self.name = name
        self.isError = isError
        self.cutBytes = cutBytes
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.reasoning = reasoning
        self.itemID = itemID
    }
}

/// A tool call as the model made it.
public struct ToolCall: Sendable, Hashable, Codable {
    /// The call's id (the API's, or `call_N` when the API gave none).
    public var id: String
    /// The tool's name.
    public var name: String
    /// The arguments as the model wrote them (JSON text, possibly malformed).
    public var arguments: String
    /// The API's id of the call's item (Responses `fc_…`), kept when its turn has reasoning.
    public var itemID: String?

    /// Creates a call.
    public init(id: String, name: String, arguments: String, itemID: String? = nil) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.itemID = itemID
    }
}

/// A data file an agent's behaviour depends on (tool schemas, a system prompt), recorded in
/// run.json with its digest.
public struct AgentDataFile: Sendable, Hashable, Codable {
    /// What it is (`tools`, `system_prompt`).
    public var role: String
    /// The file's name (its last path component), which carries its version (`tools-v1.json`).
    public var name: String
    /// SHA-256 of its bytes.
    public var sha256: String

    /// Creates an entry.
    public init(role: String, name: String, sha256: String) {
        self.role = role
        self.name = name
        self.sha256 = sha256
    }
}
