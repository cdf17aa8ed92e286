<?php
// Oracle table for composer.test.ts: composer/semver normalises each version (Debian's
// php-composer-semver), and Constraint::versionCompare (version_compare on the normalised
// strings, dev- branches never ordered) compares every pair.
//   php gen-composer.php composer-versions.json > composer-oracle.json
require '/usr/share/php/Composer/Semver/autoload.php';
use Composer\Semver\VersionParser;
use Composer\Semver\Constraint\Constraint;

$versions = json_decode(file_get_contents($argv[1]), true);
$parser = new VersionParser();
$normalized = array();
foreach ($versions as $v) {
    try { $normalized[] = $parser->normalize($v); } catch (\UnexpectedValueException $e) { $normalized[] = null; }
}
$valid = array_map(function ($n) { return $n !== null && strpos($n, 'dev-') !== 0; }, $normalized);
$c = new Constraint('==', '1.0.0.0');
$matrix = array();
foreach ($normalized as $i => $a) {
    $row = '';
    foreach ($normalized as $j => $b) {
        if (!$valid[$i] || !$valid[$j]) { $row .= 'x'; continue; }
        $row .= $c->versionCompare($a, $b, '<') ? '<' : ($c->versionCompare($a, $b, '>') ? '>' : '=');
    }
    $matrix[] = $row;
}
$oracle = 'composer/semver ' . trim(shell_exec("dpkg-query -W -f='\${Version}' php-composer-semver")) . ', PHP ' . PHP_VERSION;
echo json_encode(array('oracle' => $oracle, 'versions' => $versions, 'valid' => $valid, 'normalized' => $normalized, 'matrix' => $matrix)), "\n";
