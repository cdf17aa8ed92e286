#!/usr/bin/env ruby
# Oracle table for rubygems.test.ts: Gem::Version orders every pair of the versions.
#   ruby gen-rubygems.rb rubygems-versions.json > rubygems-oracle.json
require "json"
require "rubygems"
Gem::Deprecate.skip = true if Gem::Deprecate.respond_to?(:skip=)
versions = JSON.parse(File.read(ARGV[0]))
parsed = versions.map { |v| Gem::Version.correct?(v) ? Gem::Version.new(v) : nil }
matrix = parsed.map do |a|
  parsed.map do |b|
    next "x" if a.nil? || b.nil?
    { -1 => "<", 0 => "=", 1 => ">" }.fetch(a <=> b)
  end.join
end
puts JSON.generate({ "oracle" => "RubyGems #{Gem::VERSION} Gem::Version", "versions" => versions,
                     "valid" => parsed.map { |p| !p.nil? }, "matrix" => matrix })
