package schemaverse

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/protoutil"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// protoFileName is the path under which clients look the schema file up in the
// descriptor set (§9.7).
func protoFileName(schemaName string, version int) string {
	return fmt.Sprintf("%s_%d.proto", schemaName, version)
}

// compileProtoSource compiles one in-memory .proto file. Only the well-known
// google/protobuf imports resolve: the broker has no other files to offer.
func compileProtoSource(fileName, content string) (linker.File, error) {
	if err := checkProtoNesting(content); err != nil {
		return nil, err
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(map[string]string{fileName: content}),
		}),
		// One file and a shared 2-core machine: parallelism buys nothing.
		MaxParallelism: 1,
	}
	files, err := c.Compile(context.Background(), fileName)
	if err != nil {
		return nil, err
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("compiler returned %d files for %s", len(files), fileName)
	}
	return files[0], nil
}

// ProtobufDescriptor compiles content (no protoc involved) and returns the
// base64 (standard alphabet) FileDescriptorSet whose first file is named
// `<schemaName>_<version>.proto`, plus the name of the first top-level message.
// Imported well-known files follow the schema file so that the set is
// self-contained for clients that build a registry from it.
func ProtobufDescriptor(schemaName string, version int, content string) (descriptorB64, messageStructName string, err error) {
	if strings.TrimSpace(content) == "" {
		return "", "", errors.New(errEmptyContent)
	}
	fd, err := compileProtoSource(protoFileName(schemaName, version), content)
	if err != nil {
		return "", "", errors.New(errProtoPrefix + err.Error())
	}
	if fd.Messages().Len() == 0 {
		return "", "", errors.New(errNoProtoMessage)
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{protoutil.ProtoFromFileDescriptor(fd)}}
	seen := map[string]bool{fd.Path(): true}
	appendImports(set, fd, seen)
	raw, err := proto.Marshal(set)
	if err != nil {
		return "", "", fmt.Errorf("marshal descriptor set for %s: %w", fd.Path(), err)
	}
	return base64.StdEncoding.EncodeToString(raw), string(fd.Messages().Get(0).Name()), nil
}

// appendImports adds fd's transitive imports, depth first, each once.
func appendImports(set *descriptorpb.FileDescriptorSet, fd protoreflect.FileDescriptor, seen map[string]bool) {
	imports := fd.Imports()
	for i := 0; i < imports.Len(); i++ {
		dep := imports.Get(i).FileDescriptor
		if seen[dep.Path()] {
			continue
		}
		seen[dep.Path()] = true
		set.File = append(set.File, protoutil.ProtoFromFileDescriptor(dep))
		appendImports(set, dep, seen)
	}
}

// maxProtoNesting bounds brace/bracket nesting in a .proto file. The compiler
// walks its syntax tree recursively, and a megabyte of "message A {" would
// take seconds and risk the goroutine stack limit - a fatal error that
// recover cannot catch - on the broker. Real schemas nest a few levels.
const maxProtoNesting = 200

// checkProtoNesting counts nesting without parsing; braces inside strings
// or comments count too, which only makes the bound stricter.
func checkProtoNesting(content string) error {
	depth := 0
	for i := 0; i < len(content); i++ {
		switch content[i] {
		case '{', '[', '(', '<':
			depth++
			if depth > maxProtoNesting {
				return fmt.Errorf("nesting deeper than %d levels", maxProtoNesting)
			}
		case '}', ']', ')', '>':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
