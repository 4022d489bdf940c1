import JSONText
import PushCore

extension JSONValue {
    /// A tool argument as the core takes it: every string exactly as it arrived.
    init(_ json: OrderedJSON) {
        switch json {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .array(let array): self = .array(array.map { JSONValue($0) })
        case .object(let members): self = .object(Dictionary(members.map { ($0.0, JSONValue($0.1)) }, uniquingKeysWith: { _, last in last }))
        }
    }
}
