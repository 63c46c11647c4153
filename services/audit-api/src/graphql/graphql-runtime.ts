import { createRequire } from 'node:module';

/**
 * graphql-js, loaded the way graphql-yoga and graphql-ws load it (its CommonJS build). graphql
 * refuses schema objects from two copies of itself, and a bundler-style resolver (the test runner)
 * would otherwise hand this code the ESM build while Yoga uses the CommonJS one.
 */
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export const { GraphQLError, GraphQLScalarType, Kind, getNamedType, getNullableType, isListType, isObjectType, isInterfaceType, parse, valueFromASTUntyped } = graphql;
export type GraphQLError = import('graphql').GraphQLError;
