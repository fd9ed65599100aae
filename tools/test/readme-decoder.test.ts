import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/decoder/README.md', 'decoder');
