import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/data/README.md', 'data');
