import MCP
import PushCore

extension JSONValue {
    init(_ value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .data(let mimeType, let data): self = .string("data:\(mimeType ?? "application/octet-stream");base64,\(data.base64EncodedString())")
        case .array(let array): self = .array(array.map { JSONValue($0) })
        case .object(let object): self = .object(object.mapValues { JSONValue($0) })
        }
    }
}

extension Value {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .array(let array): self = .array(array.map(Value.init))
        case .object(let object): self = .object(object.mapValues(Value.init))
        }
    }

    init(_ json: OrderedJSON) {
        switch json {
        case .null: self = .null
        case .string(let string): self = .string(string)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .bool(let bool): self = .bool(bool)
        case .array(let items): self = .array(items.map(Value.init))
        case .object(let members): self = .object(Dictionary(members.map { ($0.0, Value($0.1)) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// The JSON type name, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .data: return "binary data"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
