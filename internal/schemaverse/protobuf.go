package schemaverse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Detail texts for protobuf messages; memphis.go rewrites the library's
// wire-format error into the first one (§14).
const (
	errNotProtobuf = "invalid message format, expecting protobuf"
)

type protobufValidator struct {
	msg protoreflect.MessageDescriptor
}

func compileProtobuf(s Schema) (Validator, error) {
	desc := s.Descriptor
	structName := s.MessageStructName
	if desc == "" {
		// A broker that sends no descriptor still sends the source: compile it
		// here with the same code the broker would have used.
		var err error
		desc, structName, err = ProtobufDescriptor(s.Name, s.Version, s.Content)
		if err != nil {
			return nil, err
		}
		if s.MessageStructName != "" {
			structName = s.MessageStructName
		}
	}
	md, err := findMessage(desc, protoFileName(s.Name, s.Version), structName)
	if err != nil {
		return nil, err
	}
	return &protobufValidator{msg: md}, nil
}

// findMessage decodes the descriptor set and returns the top-level message
// structName of file path. The first file of the set is the fallback because
// the real broker names SDK-created versions `<name>_1.proto` whatever their
// version (§16).
func findMessage(descB64, path, structName string) (protoreflect.MessageDescriptor, error) {
	raw, err := base64.StdEncoding.DecodeString(descB64)
	if err != nil {
		return nil, fmt.Errorf("decode descriptor base64: %w", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("decode descriptor set: %w", err)
	}
	if len(set.File) == 0 {
		return nil, errors.New("descriptor set has no files")
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("build descriptor registry: %w", err)
	}
	fd, err := files.FindFileByPath(path)
	if err != nil {
		fd, err = files.FindFileByPath(set.File[0].GetName())
		if err != nil {
			return nil, fmt.Errorf("find file %s in descriptor set: %w", path, err)
		}
	}
	if fd.Messages().Len() == 0 {
		return nil, fmt.Errorf("file %s declares no message", fd.Path())
	}
	if structName == "" {
		return fd.Messages().Get(0), nil
	}
	md := fd.Messages().ByName(protoreflect.Name(structName))
	if md == nil {
		return nil, fmt.Errorf("message %q not found in %s", structName, fd.Path())
	}
	return md, nil
}

// Validate accepts protobuf binary, or a JSON object (protojson mapping) which
// it converts to binary so consumers always receive protobuf.
func (v *protobufValidator) Validate(msg []byte) ([]byte, error) {
	if looksLikeJSONObject(msg) {
		m := dynamicpb.NewMessage(v.msg)
		if err := protojson.Unmarshal(msg, m); err != nil {
			return nil, invalid("%s", cleanProtoErr(err))
		}
		// Deterministic: field-number order, so equal input gives equal bytes
		// (dynamic messages otherwise marshal in map order).
		out, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			return nil, invalid("%s", cleanProtoErr(err))
		}
		return out, nil
	}
	m := dynamicpb.NewMessage(v.msg)
	if err := proto.Unmarshal(msg, m); err != nil {
		return nil, invalid("%s", cleanProtoErr(err))
	}
	if path := unknownFieldPath(m, string(v.msg.Name())); path != "" {
		return nil, invalid("%s", errNotProtobuf+": "+path+" has fields the schema does not declare")
	}
	return msg, nil
}

// unknownFieldPath returns where m (recursively) holds fields the schema does
// not declare, or "" when it holds none. The protobuf runtime keeps such fields
// silently, so without this check any byte string that happens to be valid
// wire format - including a known field number sent with the wrong wire type -
// would pass. memphis.go accepts them; rejecting is deliberate.
func unknownFieldPath(m protoreflect.Message, path string) string {
	if len(m.GetUnknown()) > 0 {
		return path
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		sub := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := val.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = unknownFieldPath(l.Get(i).Message(), fmt.Sprintf("%s[%d]", sub, i))
			}
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					found = unknownFieldPath(mv.Message(), fmt.Sprintf("%s[%v]", sub, k.Interface()))
					return found == ""
				})
			}
		default:
			found = unknownFieldPath(val.Message(), sub)
		}
		return found == ""
	})
	return found
}

// Deserialize returns the message as a JSON-compatible map keyed by the field
// names written in the .proto file.
func (v *protobufValidator) Deserialize(msg []byte) (any, error) {
	m := dynamicpb.NewMessage(v.msg)
	if err := proto.Unmarshal(msg, m); err != nil {
		return nil, &DeserializeError{Detail: cleanProtoErr(err)}
	}
	if path := unknownFieldPath(m, string(v.msg.Name())); path != "" {
		return nil, &DeserializeError{Detail: errNotProtobuf + ": " + path + " has fields the schema does not declare"}
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, &DeserializeError{Detail: cleanProtoErr(err)}
	}
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, &DeserializeError{Detail: err.Error()}
	}
	return out, nil
}

// looksLikeJSONObject reports whether msg is a complete JSON object. Binary
// protobuf can start with '{' (field 15, start-group), so the whole text must
// be valid JSON before it is treated as JSON.
func looksLikeJSONObject(msg []byte) bool {
	t := bytes.TrimSpace(msg)
	return len(t) > 0 && t[0] == '{' && json.Valid(t)
}

// cleanProtoErr maps library errors onto Memphis' texts and strips the
// library's unstable prefixes ("proto: ", random non-breaking spaces).
func cleanProtoErr(err error) string {
	s := err.Error()
	if strings.Contains(s, "cannot parse invalid wire-format data") {
		return errNotProtobuf
	}
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.TrimPrefix(s, "proto:  ")
	return strings.TrimSpace(s)
}
