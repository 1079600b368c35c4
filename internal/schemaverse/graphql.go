package schemaverse

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// errNotGraphQL is memphis.go's text for a message that does not parse (§9.7).
const errNotGraphQL = "invalid message format, expecting GraphQL"

type graphQLValidator struct {
	schema *ast.Schema
}

// loadGraphQLSchema parses and validates an SDL document; its error is the
// parser's text, which is what the broker returns for a bad GraphQL file.
func loadGraphQLSchema(content string) (*ast.Schema, error) {
	sch, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: content})
	if err != nil {
		return nil, errors.New(err.Error())
	}
	return sch, nil
}

func compileGraphQL(s Schema) (Validator, error) {
	sch, err := loadGraphQLSchema(s.Content)
	if err != nil {
		return nil, fmt.Errorf("parse graphql schema: %w", err)
	}
	return &graphQLValidator{schema: sch}, nil
}

// Validate accepts an operation document (query/mutation/subscription) that
// is valid against the schema and publishes its text as is.
func (v *graphQLValidator) Validate(msg []byte) ([]byte, error) {
	if !utf8.Valid(msg) {
		return nil, invalid("%s", errNotGraphQL)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: string(msg)})
	if err != nil || doc == nil || len(doc.Operations) == 0 {
		return nil, invalid("%s", errNotGraphQL)
	}
	if errs := validator.ValidateWithRules(v.schema, doc, nil); len(errs) > 0 {
		texts := make([]string, 0, len(errs))
		for _, e := range errs {
			texts = append(texts, e.Message)
		}
		return nil, invalid("%s", strings.Join(texts, "; "))
	}
	return msg, nil
}

// Deserialize returns the operation text once it validates.
func (v *graphQLValidator) Deserialize(msg []byte) (any, error) {
	if _, err := v.Validate(msg); err != nil {
		return nil, deserializeErr(err)
	}
	return string(msg), nil
}
