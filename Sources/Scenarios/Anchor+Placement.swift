import Foundation
import GitStore

/// Where an anchor puts a block in a given file text, or why it cannot (GitStore's definition,
/// the one seed commits land with).
typealias AnchorPlacement = SeedEdit.Placement

extension Anchor {
    /// The lines of a file, split as seed commits split them (GitStore's definition).
    static func lines(of text: String) -> [String] {
        SeedEdit.lines(of: text)
    }

    /// Where this anchor puts a block in `lines`.
    func placement(in lines: [String]) -> AnchorPlacement {
        SeedEdit.placement(of: seedAnchor, in: lines)
    }

    /// The same anchor as GitStore's seed edits take it.
    var seedAnchor: SeedEdit.Anchor {
        switch self {
        case .top: return .top
        case .bottom: return .bottom
        case .beforeLine(let line): return .beforeLine(line)
        case .afterMatch(let pattern): return .afterMatch(pattern)
        case .beforeMatch(let pattern): return .beforeMatch(pattern)
        }
    }

    /// How the anchor reads in the scenario format, for messages.
    var written: String {
        switch self {
        case .top: return "top"
        case .bottom: return "bottom"
        case .beforeLine(let line): return "before_line: \(line)"
        case .afterMatch(let pattern): return "after_match: \(pattern)"
        case .beforeMatch(let pattern): return "before_match: \(pattern)"
        }
    }
}
